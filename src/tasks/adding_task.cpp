// The adding problem (Hochreiter & Schmidhuber 1997, in the form of Le, Jaitly & Hinton 2015
// and Arjovsky et al. 2016): T steps of two features, a value uniform in [0, 1) and a marker
// that is 1 at exactly two steps, one drawn uniformly from the first half [0, T/2) and one from
// the second half [T/2, T), and 0 elsewhere. The target, read at the last step, is the sum of
// the two marked values. Predicting the constant 1 (the mean of the sum) scores the variance of
// a sum of two uniforms, 2/12 = 0.1667: the trivial baseline.
#include <string>

#include "gpurnn/error.h"
#include "tasks/generated_source.h"
#include "tasks/task_support.h"
#include "tasks/tasks.h"

namespace gpurnn::train::tasks {
namespace {

constexpr std::int64_t kDefaultSteps = 50;
constexpr std::int64_t kDefaultRows = 64;
constexpr std::int64_t kTrainBatchesPerEpoch = 100;  // notional: every batch is fresh
constexpr std::int64_t kEvalExamples = 1024;

void draw_adding_row(CounterRng& rng, Batch& batch, std::int64_t row) {
  const std::int64_t steps = batch.steps();
  const std::int64_t rows = batch.rows();
  float* inputs = batch.inputs.data_as<float>();
  for (std::int64_t t = 0; t < steps; ++t) {
    inputs[(t * rows + row) * 2] = static_cast<float>(rng.uniform());
  }
  const std::int64_t half = steps / 2;
  const std::int64_t first = rng.below(half);
  const std::int64_t second = half + rng.below(steps - half);
  inputs[(first * rows + row) * 2 + 1] = 1.0f;
  inputs[(second * rows + row) * 2 + 1] = 1.0f;
  batch.targets.data_as<float>()[row] = inputs[(first * rows + row) * 2] + inputs[(second * rows + row) * 2];
}

class AddingTask : public BasicTask {
 public:
  explicit AddingTask(const TaskOptions& options) : BasicTask("adding") {
    const std::int64_t steps = option_or(options.seq_len, kDefaultSteps, "make_task(adding)", "seq_len");
    check_argument(steps >= 2, "make_task(adding)", "seq_len",
                   "must be at least 2 (one marker in each half), got " + std::to_string(steps));
    const std::int64_t rows = option_or(options.batch, kDefaultRows, "make_task(adding)", "batch");
    interface_ = {InputKind::features, 2, TargetKind::final_values, 1};
    train_ = std::make_unique<GeneratedSource>(interface_, steps, rows, kTrainBatchesPerEpoch,
                                               options.seed, kTrainStream, draw_adding_row);
    eval_ = std::make_unique<GeneratedSource>(interface_, steps, rows,
                                              (kEvalExamples + rows - 1) / rows, options.seed,
                                              kEvalStream, draw_adding_row);
    double squared = 0.0;
    std::int64_t count = 0;
    for_each_batch(*eval_, [&](const Batch& batch) {
      for (std::int64_t row = 0; row < batch.rows(); ++row, ++count) {
        const double error = 1.0 - batch.targets.data_as<float>()[row];
        squared += error * error;
      }
    });
    baseline_mse_ = squared / static_cast<double>(count);
    settings_ = {{"seq_len", std::to_string(steps)}, {"batch", std::to_string(rows)}};
    description_ = "adding problem: T=" + std::to_string(steps) +
                   " steps of (uniform value, marker), target the sum of the two marked values; "
                   "fresh examples drawn from the seed, batch " + std::to_string(rows) + ", " +
                   std::to_string(count) + " held-out examples";
  }

  Report report(const EvalResult& eval) const override {
    return {{"mse", format_number(eval.mean_loss)}, {"baseline_mse", format_number(baseline_mse_)}};
  }

 private:
  double baseline_mse_ = 0.0;  // predicting 1.0, on the evaluation examples
};

}  // namespace

std::unique_ptr<Task> make_adding_task(const TaskOptions& options) {
  return std::make_unique<AddingTask>(options);
}

// One thread: with the cpu backend's one OpenMP pool two threads are no slower on 2 idle cores
// (100 steps 0.43 vs 0.53 s), but with one core busy with other work 100 steps took 8.8-9.4 s on
// two against 0.55 s on one. The other small models measured the same way (classify 200 steps
// 0.53 vs 0.60 s, convex-hull 150 steps 3.8 vs 4.2 s, sort 1.43 vs 1.37 s) and run on one too.
TaskEntry adding_task_entry() { return {"adding", {"lstm", 64, 1500, 50, 1e-2, 1.0, "general", 1, "cosine", 1}, make_adding_task}; }

}  // namespace gpurnn::train::tasks
