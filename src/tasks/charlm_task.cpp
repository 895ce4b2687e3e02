// Character-level language modelling by truncated BPTT. Tokens are the distinct bytes of the
// corpus, numbered in byte order (token_text gives a token's byte back). Default corpus:
// libgpurnn's own source files (embedded_corpus.h), one document per file; --text FILE: the
// file's bytes as one document. The last 5% of each document is held out for evaluation (a
// document under 20 bytes is all training).
//
// Report: bits_per_char = mean_loss / ln 2, and beside it unigram_bits, the cross-entropy in
// bits of the training split's byte frequencies (add-one smoothed over the vocabulary) on the
// targets the evaluation batches count; and ngram_bits, the same targets scored by an interpolated
// Witten–Bell character n-gram of the training split (char_ngram.h), each from the history the
// model has (its lane's bytes since its state was last reset), its order (ngram_order, 1-8) chosen
// on the last 5% of each training document. Fitted on the first report (a few seconds).
#include <array>
#include <cmath>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "gpurnn/error.h"
#include "train/checkpoint_metadata.h"
#include "io/mapped_file.h"
#include "tasks/char_ngram.h"
#include "tasks/data_record.h"
#include "tasks/embedded_corpus.h"
#include "tasks/stream_source.h"
#include "tasks/task_support.h"
#include "tasks/tasks.h"

namespace gpurnn::train::tasks {
namespace {

constexpr const char* kWhere = "make_task(charlm)";
constexpr std::int64_t kDefaultSteps = 100;
constexpr std::int64_t kDefaultRows = 32;
constexpr std::size_t kHeldOutDivisor = 20;  // the last 1/20 of each document

// Token ids of one split, documents back to back, and where each ends. A byte per token (there
// are at most 256), so the splits together hold as many bytes as the corpus.
struct Split {
  std::shared_ptr<std::vector<std::uint8_t>> tokens = std::make_shared<std::vector<std::uint8_t>>();
  std::vector<std::int64_t> ends;
  void add(std::string_view bytes, const std::array<std::uint8_t, 256>& ids) {
    if (bytes.empty()) return;
    for (unsigned char byte : bytes) tokens->push_back(ids[byte]);
    ends.push_back(static_cast<std::int64_t>(tokens->size()));
  }
};

class CharlmTask : public BasicTask {
 public:
  explicit CharlmTask(const TaskOptions& options) : BasicTask("charlm") {
    const std::int64_t steps = option_or(options.seq_len, kDefaultSteps, kWhere, "seq_len");
    const std::int64_t batch = option_or(options.batch, 0, kWhere, "batch");
    std::vector<std::string_view> documents;
    std::string origin;
    std::optional<io::detail::MappedFile> file;  // keeps the --text bytes mapped while they are read
    if (options.text_path.empty()) {
      documents = embedded_corpus();
      origin = "embedded corpus (libgpurnn's source tree, " + std::to_string(documents.size()) + " files)";
    } else {
      try {
        file.emplace(options.text_path);
      } catch (const Error& error) {
        throw Error(error.code(), std::string(kWhere) + ": argument 'text': " + error.what());
      }
      check_data_file_size(file->size(), kWhere, "text", options.text_path);
      documents.emplace_back(reinterpret_cast<const char*>(file->data()), file->size());
      origin = "'" + options.text_path + "'";
    }
    // The data's identity for the checkpoint: the file's bytes, or the corpus's documents each
    // with its size (so that moving bytes between files changes the hash).
    checkpoint_detail::ContentHash hash;
    for (std::string_view document : documents) {
      if (!file) {
        const std::uint64_t size = document.size();
        hash.add(&size, sizeof size);
      }
      hash.add(document.data(), document.size());
    }
    std::int64_t total = 0;
    for (std::string_view document : documents) {
      for (unsigned char byte : document) present_[byte] = true;
      total += static_cast<std::int64_t>(document.size());
    }
    check_argument(total > 0, kWhere, options.text_path.empty() ? "corpus" : "text",
                   origin + " is empty");
    std::array<std::uint8_t, 256> ids{};
    for (int byte = 0; byte < 256; ++byte) {
      if (present_[static_cast<std::size_t>(byte)]) {
        ids[static_cast<std::size_t>(byte)] = static_cast<std::uint8_t>(bytes_.size());
        bytes_.push_back(static_cast<char>(byte));
      }
    }
    Split train, eval;
    train.tokens->reserve(static_cast<std::size_t>(total));
    eval.tokens->reserve(static_cast<std::size_t>(total) / kHeldOutDivisor + documents.size());
    for (std::string_view document : documents) {
      const std::size_t held = document.size() / kHeldOutDivisor;
      train.add(document.substr(0, document.size() - held), ids);
      eval.add(document.substr(document.size() - held), ids);
    }
    if (file) file->check_unchanged();  // the --text bytes (and hash) are read: were they the file's?
    if (file) {
      record_ = file_record(options.text_path, file->size(), hash.text());
    } else {
      record_ = {{"source", "built-in"},
                 {"generator", "embedded corpus (libgpurnn's source tree, " + std::to_string(documents.size()) +
                                   " files)"},
                 {"bytes", std::to_string(total)},
                 {"hash", hash.text()}};
    }
    const auto vocabulary = static_cast<std::int64_t>(bytes_.size());
    const std::int64_t lanes = stream_lanes(StreamPlan::input_positions(train.ends, 1), steps, batch,
                                            kDefaultRows, kWhere, "the training split of " + origin);
    const std::int64_t eval_positions = StreamPlan::input_positions(eval.ends, 1);
    check_argument(eval_positions > 0, kWhere, "text",
                   origin + " is too small for a held-out split (the last 5% of a document of at "
                            "least 40 bytes)");
    train_ = StreamSource::over_tokens(train.tokens, train.ends, vocabulary, lanes, steps);
    eval_ = StreamSource::over_tokens(eval.tokens, eval.ends, vocabulary,
                                      eval_stream_lanes(eval_positions, steps, lanes), steps);
    interface_ = {InputKind::tokens, vocabulary, TargetKind::step_classes, vocabulary};
    measure_unigram(*train.tokens);
    ngram_.train = train.tokens;
    ngram_.train_ends = train.ends;
    ngram_.eval = eval.tokens;
    const StreamPlan& plan = dynamic_cast<const StreamSource&>(*eval_).plan();
    for (std::int64_t lane = 0; lane < plan.lanes(); ++lane) {
      std::int64_t begin = 0;  // where the lane's state was last reset
      for (std::int64_t index = 0; index < plan.chunks_per_lane(); ++index) {
        const StreamChunk& chunk = plan.chunk(lane, index);
        if (!chunk.carry) begin = chunk.start;
        ngram_.scored.push_back({begin, chunk.start + 1, chunk.start + chunk.length + 1});
      }
    }
    // The byte-to-id table is a setting: a resume or a model's user must map bytes the same way.
    settings_ = {{"seq_len", std::to_string(steps)}, {"batch", std::to_string(lanes)}, {"vocab", vocabulary_text(bytes_)}};
    description_ = origin + ": " + format_count(total) + " bytes, " + std::to_string(vocabulary) +
                   " symbols, last 5% of each document held out (" +
                   format_count(static_cast<std::int64_t>(eval.tokens->size())) + " bytes); seq_len " +
                   std::to_string(steps) + ", batch " + std::to_string(lanes);
  }

  Report report(const EvalResult& eval) const override {
    return {{"bits_per_char", format_number(eval.mean_loss / std::log(2.0))},
            {"unigram_bits", format_number(unigram_bits_)},
            {"ngram_bits", format_number(ngram().bits)},
            {"ngram_order", std::to_string(ngram().order)}};
  }

  // The n-gram baseline, fitted once (the first report asks).
  const NgramBaseline& ngram() const {
    std::call_once(ngram_.once, [this] {
      ngram_.result = char_ngram_baseline(*ngram_.train, ngram_.train_ends, interface_.input_size, *ngram_.eval,
                                          ngram_.scored);
    });
    return ngram_.result;
  }

  std::string token_text(std::int32_t token) const override {
    check_argument(token >= 0 && token < static_cast<std::int32_t>(bytes_.size()), "Task::token_text",
                   "token", std::to_string(token) + " is outside [0, " + std::to_string(bytes_.size()) + ")");
    return std::string(1, bytes_[static_cast<std::size_t>(token)]);
  }

 private:
  void measure_unigram(const std::vector<std::uint8_t>& train_tokens) {
    std::vector<double> counts(bytes_.size(), 1.0);  // add-one
    for (std::uint8_t token : train_tokens) counts[token] += 1.0;
    const double total = static_cast<double>(train_tokens.size() + bytes_.size());
    double bits = 0.0;
    std::int64_t count = 0;
    for_each_batch(*eval_, [&](const Batch& batch) {
      const std::int32_t* targets = batch.targets.data_as<std::int32_t>();
      for (std::int64_t i = 0; i < batch.targets.numel(); ++i) {
        if (targets[i] == kIgnoreTarget) continue;
        bits -= std::log2(counts[static_cast<std::size_t>(targets[i])] / total);
        ++count;
      }
    });
    unigram_bits_ = bits / static_cast<double>(count);
  }

  std::array<bool, 256> present_{};
  std::string bytes_;  // token id -> byte
  double unigram_bits_ = 0.0;
  struct NgramState {
    std::shared_ptr<const std::vector<std::uint8_t>> train;
    std::vector<std::int64_t> train_ends;
    std::shared_ptr<const std::vector<std::uint8_t>> eval;
    std::vector<TextSpan> scored;  // the targets the evaluation batches count
    NgramBaseline result;
    std::once_flag once;
  };
  mutable NgramState ngram_;
};

}  // namespace

std::unique_ptr<Task> make_charlm_task(const TaskOptions& options) {
  return std::make_unique<CharlmTask>(options);
}

// Hidden 256 gains most from two threads: it takes every core (threads 0).
TaskEntry charlm_task_entry() { return {"charlm", {"lstm", 256, 800, 30, 4e-3, 1.0}, make_charlm_task}; }

}  // namespace gpurnn::train::tasks
