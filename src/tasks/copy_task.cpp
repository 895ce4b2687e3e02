// The copy-memory task (Hochreiter & Schmidhuber 1997; Arjovsky et al. 2016), with the output
// phase right after the delimiter. Input tokens: 0..7 symbols, 8 blank, 9 delimiter. A row is
//   steps 0 .. S-1            S = 10 symbols drawn uniformly from 8
//   steps S .. S+T-1          T blanks (T = seq_len)
//   step  S+T                 the delimiter
//   steps S+T+1 .. 2S+T       blanks, where the targets are the S symbols in order
// and every other step's target is kIgnoreTarget. Chance: accuracy 1/8, cross-entropy ln 8.
#include <cmath>
#include <string>

#include "tasks/generated_source.h"
#include "tasks/task_support.h"
#include "tasks/tasks.h"

namespace gpurnn::train::tasks {
namespace {

constexpr std::int64_t kSymbols = 10;     // S
constexpr std::int32_t kAlphabet = 8;
constexpr std::int32_t kBlank = 8;
constexpr std::int32_t kDelimiter = 9;
constexpr std::int64_t kDefaultBlanks = 10;  // T
constexpr std::int64_t kDefaultRows = 64;
constexpr std::int64_t kTrainBatchesPerEpoch = 100;  // notional: every batch is fresh
constexpr std::int64_t kEvalExamples = 1024;

void draw_copy_row(CounterRng& rng, Batch& batch, std::int64_t row) {
  const std::int64_t steps = batch.steps();
  const std::int64_t rows = batch.rows();
  const std::int64_t delimiter_step = steps - kSymbols - 1;
  std::int32_t* inputs = batch.inputs.data_as<std::int32_t>();
  std::int32_t* targets = batch.targets.data_as<std::int32_t>();
  for (std::int64_t t = 0; t < steps; ++t) inputs[t * rows + row] = kBlank;
  inputs[delimiter_step * rows + row] = kDelimiter;
  for (std::int64_t s = 0; s < kSymbols; ++s) {
    const auto symbol = static_cast<std::int32_t>(rng.below(kAlphabet));
    inputs[s * rows + row] = symbol;
    targets[(delimiter_step + 1 + s) * rows + row] = symbol;
  }
}

class CopyTask : public BasicTask {
 public:
  explicit CopyTask(const TaskOptions& options) : BasicTask("copy") {
    const std::int64_t blanks = option_or(options.seq_len, kDefaultBlanks, "make_task(copy)", "seq_len");
    const std::int64_t rows = option_or(options.batch, kDefaultRows, "make_task(copy)", "batch");
    const std::int64_t steps = 2 * kSymbols + blanks + 1;
    interface_ = {InputKind::tokens, kAlphabet + 2, TargetKind::step_classes, kAlphabet};
    train_ = std::make_unique<GeneratedSource>(interface_, steps, rows, kTrainBatchesPerEpoch,
                                               options.seed, kTrainStream, draw_copy_row);
    const std::int64_t eval_batches = (kEvalExamples + rows - 1) / rows;
    eval_ = std::make_unique<GeneratedSource>(interface_, steps, rows, eval_batches, options.seed,
                                              kEvalStream, draw_copy_row);
    settings_ = {{"seq_len", std::to_string(blanks)}, {"batch", std::to_string(rows)}};
    description_ = "copy memory: " + std::to_string(kSymbols) + " symbols of 8, " +
                   std::to_string(blanks) + " blanks (seq_len), a delimiter, then the symbols to "
                   "recall (" + std::to_string(steps) + " steps); fresh examples drawn from the "
                   "seed, batch " + std::to_string(rows) + ", " +
                   std::to_string(eval_batches * rows) + " held-out examples";
  }

  Report report(const EvalResult& eval) const override {
    Report report;
    if (eval.accuracy) report.emplace_back("accuracy", format_number(*eval.accuracy));
    report.emplace_back("chance_accuracy", format_number(1.0 / kAlphabet));
    report.emplace_back("loss", format_number(eval.mean_loss));
    report.emplace_back("baseline_loss", format_number(std::log(static_cast<double>(kAlphabet))));
    return report;
  }
};

}  // namespace

std::unique_ptr<Task> make_copy_task(const TaskOptions& options) {
  return std::make_unique<CopyTask>(options);
}

// A GRU leaves the chance plateau within a few hundred steps where an LSTM of the same size needs
// thousands (measured: 0.99 vs 0.71 accuracy after 1,500 steps). One thread: see adding_task.cpp.
TaskEntry copy_task_entry() { return {"copy", {"gru", 128, 1200, 50, 1e-2, 1.0, "general", 1, "cosine", 1}, make_copy_task}; }

}  // namespace gpurnn::train::tasks
