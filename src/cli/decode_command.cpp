// `gpurnn run --checkpoint FILE --text INPUTS`: decodes each line of INPUTS with a seq2seq or
// pointer-network checkpoint of `gpurnn train` (translate, sort, convex-hull, tsp), greedy or
// with a beam, and writes one output line per input line (to --output, atomically, or stdout).

#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "cli/commands.h"
#include "cli/device_choice.h"
#include "gpurnn/train/seq2seq.h"
#include "gpurnn/train/trainer.h"
#include "io/atomic_file.h"
#include "io/mapped_file.h"
#include "tasks/task_registry.h"

namespace gpurnn::cli {
namespace {

std::vector<std::string> read_lines(const std::string& path) {
  std::istringstream file;
  std::istream* in = &std::cin;
  if (path != "-") {  // a regular file only: a FIFO without a writer once hung the open
    try {
      const io::detail::MappedFile mapped(path);
      file.str(mapped.checked([](const std::uint8_t* bytes, std::size_t size) {
        return std::string(reinterpret_cast<const char*>(bytes), size);
      }));
    } catch (const Error& e) {
      throw Error(e.code(), "--text " + path + ": " + e.what());
    }
    in = &file;
  }
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(*in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) lines.push_back(line);
  }
  if (lines.empty()) throw Error(ErrorCode::invalid_argument, "--text " + path + ": has no input lines");
  return lines;
}

// Decoding costs grow with the input's length (attention over every position at every output
// step, beam times): a line may hold at most 10x the points the model was trained on, and at most
// kMaxPositions positions (characters for translate) where the checkpoint records no point count.
constexpr std::int64_t kMaxBeam = 256;
constexpr std::int64_t kMaxPositions = 1000;

struct InputLimit {
  std::int64_t positions;
  std::string why;
};

InputLimit input_limit(const std::map<std::string, std::string>& metadata) {
  const auto points = metadata.find("task.points");
  if (points != metadata.end()) {
    try {
      const std::int64_t n = std::stoll(points->second);
      if (n > 0 && n <= kMaxPositions) {
        return {10 * n + 1, "10x the " + std::to_string(n) + " points the model was trained on, and an end marker"};
      }
    } catch (const std::exception&) {
    }
  }
  return {kMaxPositions, "the limit for a model without a trained point count"};
}

}  // namespace

int run_decode(const RunOptions& o) {
  if (o.text_input.empty()) {
    throw Error(ErrorCode::invalid_argument,
                "--checkpoint needs --text: a file with one input per line ('-' for stdin)");
  }
  const train::CheckpointInfo info = train::read_checkpoint_info(o.checkpoint);
  if (info.model_kind != "seq2seq") {
    throw Error(ErrorCode::invalid_argument, "--checkpoint " + o.checkpoint + ": holds a " + info.model_kind +
                                                 " model of task '" + info.task +
                                                 "'; gpurnn run decodes the output-sequence tasks (translate, sort, "
                                                 "convex-hull, tsp)");
  }
  train::TaskOptions task_options;
  task_options.eval_examples = 1;  // the task only parses and formats here
  const auto setting = info.metadata.find("task.reverse_source");
  task_options.reverse_source = setting != info.metadata.end() && setting->second == "1";
  const std::unique_ptr<train::Task> task = train::make_task(info.task, task_options);
  const auto* sequence_task = dynamic_cast<const train::SequenceTask*>(task.get());
  if (sequence_task == nullptr) {
    throw Error(ErrorCode::invalid_argument, "--checkpoint " + o.checkpoint + ": task '" + info.task +
                                                 "' has no output sequences to decode");
  }
  train::Seq2SeqConfig config = train::seq2seq_config_from_metadata(info.metadata, o.checkpoint);
  config.backend = to_string(resolve_device(o.device));
  train::Seq2SeqModel model(config);
  train::load_model_parameters(o.checkpoint, model);

  train::DecodeOptions decoding;
  decoding.beam = o.beam > 0 ? o.beam : 1;
  decoding.length_penalty = o.length_penalty;
  check_argument(o.beam >= 0 && o.beam <= kMaxBeam, "gpurnn run", "--beam",
                 "must be in [1, " + std::to_string(kMaxBeam) + "] (0: greedy), got " + std::to_string(o.beam));
  check_argument(o.length_penalty >= 0, "gpurnn run", "--length-penalty", "must be >= 0");

  const InputLimit limit = input_limit(info.metadata);
  std::ostringstream out;
  const std::vector<std::string> lines = read_lines(o.text_input);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    try {
      const train::Batch input = sequence_task->parse_input(lines[i]);
      check_argument(input.steps() <= limit.positions, "gpurnn run", "--text",
                     "holds " + std::to_string(input.steps()) + " input positions, more than the " +
                         std::to_string(limit.positions) + " decoded per line (" + limit.why + ")");
      const std::vector<std::int32_t> output = model.decode(input, decoding).at(0);
      out << sequence_task->format_output(lines[i], output) << "\n";
    } catch (const Error& e) {
      throw Error(e.code(), "--text " + o.text_input + " line " + std::to_string(i + 1) + ": " + e.what());
    }
  }
  const std::string text = out.str();
  if (o.output.empty()) {
    std::cout << text;
  } else {
    io::detail::write_file_atomically(o.output, {{text.data(), text.size()}});
  }
  std::cerr << "gpurnn run: " << info.task << " checkpoint " << o.checkpoint << " (step " << info.step << "), "
            << lines.size() << " input(s) decoded " << (decoding.beam > 1 ? "with beam " + std::to_string(decoding.beam) : std::string("greedily"))
            << " on " << config.backend << (o.output.empty() ? std::string() : ", written to " + o.output) << "\n";
  return 0;
}

}  // namespace gpurnn::cli
