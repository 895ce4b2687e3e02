// `gpurnn generate --checkpoint M`: text from a charlm checkpoint of `gpurnn train`. The prompt's
// bytes are mapped to ids with the byte-to-id table the checkpoint records (task.vocab), fed in one
// backend call, and each byte drawn is fed back through the RNN's single-step call on weights
// prepared once (SequenceModel::continue_sequence), so a byte costs one step, never a replay.
// The prompt is echoed and the bytes are written to stdout as they are drawn (flushed at each
// new line).

#include <cmath>
#include <iostream>

#include "cli/commands.h"
#include "cli/saved_model.h"
#include "core/quoted.h"
#include "gpurnn/error.h"
#include "tasks/data_record.h"

namespace gpurnn::cli {
namespace {

constexpr const char* kCommand = "gpurnn generate";
constexpr std::int64_t kMaxLength = 100000000;  // bytes per run

bool was_given(const GenerateOptions& o, const std::string& flag) {
  for (const std::string& given : o.given) {
    if (given == flag) return true;
  }
  return false;
}

// The ids of the prompt's bytes in `vocabulary` (the byte of each id); Error naming --prompt, the
// byte and its position for a byte the model never saw.
std::vector<std::int32_t> prompt_ids(const std::string& prompt, const std::string& vocabulary) {
  std::vector<std::int32_t> ids;
  for (std::size_t k = 0; k < prompt.size(); ++k) {
    const std::size_t id = vocabulary.find(prompt[k]);
    if (id == std::string::npos) {
      throw Error(ErrorCode::invalid_argument,
                  "--prompt: byte " + std::to_string(k + 1) + " (" + detail::quoted(prompt.substr(k, 1)) +
                      ") is not in the model's vocabulary of " + std::to_string(vocabulary.size()) +
                      " bytes (the bytes of the text it was trained on): " + detail::quoted(vocabulary, 300));
    }
    ids.push_back(static_cast<std::int32_t>(id));
  }
  return ids;
}

}  // namespace

int run_generate(const GenerateOptions& o) {
  check_argument(o.length >= 0 && o.length <= kMaxLength, kCommand, "--length",
                 "must be in [0, " + std::to_string(kMaxLength) + "], got " + std::to_string(o.length));
  check_argument(o.temperature > 0 && std::isfinite(o.temperature), kCommand, "--temperature",
                 "must be a positive number (1: the model's distribution, lower: more likely bytes)");
  const bool prompted = was_given(o, "--prompt");
  check_argument(!prompted || !o.prompt.empty(), kCommand, "--prompt",
                 "is empty: give at least one byte, or leave --prompt out to start from a new line");
  SavedModel saved = load_saved_model(o.checkpoint, "charlm", kCommand, "gpurnn forecast: timeseries", o.device,
                                      o.threads);
  const std::string& table = required_metadata(saved, "task.vocab", "vocabulary (the byte-to-id table)");
  const std::optional<std::string> vocabulary = train::tasks::parse_vocabulary(table);
  if (!vocabulary || static_cast<std::int64_t>(vocabulary->size()) != saved.info.model.io.input_size) {
    throw Error(ErrorCode::io_error, "checkpoint '" + saved.path + "': metadata 'task.vocab' is " +
                                         detail::quoted(table) + ", expected " +
                                         std::to_string(saved.info.model.io.input_size) +
                                         " bytes in increasing order, two hex digits each");
  }
  // Without a prompt: from a new line when the text had one (a fresh line reads best), else from
  // the first byte; neither is echoed.
  const std::size_t newline = vocabulary->find('\n');
  const std::vector<std::int32_t> prompt =
      prompted ? prompt_ids(o.prompt, *vocabulary)
               : std::vector<std::int32_t>{static_cast<std::int32_t>(newline == std::string::npos ? 0 : newline)};
  if (prompted) std::cout << o.prompt << std::flush;
  saved.model->sample(prompt, o.length, o.temperature, o.seed, [&](std::int32_t id) {
    std::cout.put((*vocabulary)[static_cast<std::size_t>(id)]);
    if (id == static_cast<std::int32_t>(newline)) std::cout.flush();
  });
  std::cout << "\n" << std::flush;
  std::cerr << kCommand << ": charlm checkpoint " << saved.path << " (step " << saved.info.step << "), " << o.length
            << " bytes at temperature " << o.temperature << ", seed " << o.seed << ", on "
            << saved.device << "\n";
  return 0;
}

}  // namespace gpurnn::cli
