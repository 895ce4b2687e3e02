// The quality bars of issue 7, on the CPU with fixed seeds and small sizes: each task's model
// must beat its trivial baseline by the stated margin within a budget of about a minute on a
// 2-core machine. These are learning tests, not timed tests: only the result is checked.
#include <gtest/gtest.h>

#include <cmath>

#include "gpurnn/train/trainer.h"
#include "tasks/task_registry.h"

namespace gpurnn::testing {
namespace {

using train::EvalResult;

struct TaskRun {
  std::unique_ptr<train::Task> task;
  EvalResult before, after;
};

struct TrainingSetup {
  std::string task;
  train::TaskOptions options;
  CellKind cell = CellKind::lstm;
  std::int64_t hidden = 64;
  std::int64_t steps = 1000;
  double lr = 1e-2;
  int threads = 1;  // small GEMMs: one thread (gpurnn train's defaults say why)
};

TaskRun train_task(const TrainingSetup& s) {
  TaskRun run;
  run.task = train::make_task(s.task, s.options);
  train::ModelConfig m;
  m.io = run.task->interface();
  m.cell = s.cell;
  m.hidden = s.hidden;
  m.seed = 1;
  m.threads = s.threads;
  train::SequenceModel model(m);
  train::TrainConfig c;
  c.steps = s.steps;
  c.schedule.kind = "cosine";
  c.schedule.base_lr = s.lr;
  c.schedule.warmup_steps = s.steps / 20;
  c.schedule.total_steps = s.steps;
  c.clip = 1.0;
  train::Trainer trainer(*run.task, model, c);
  run.before = trainer.evaluate();
  trainer.run();
  run.after = trainer.evaluate();
  return run;
}

// The value of `key` in a task's report.
double reported(const TaskRun& run, const EvalResult& eval, const std::string& key) {
  for (const auto& [k, v] : run.task->report(eval)) {
    if (k == key) return std::stod(v);
  }
  ADD_FAILURE() << "no '" << key << "' in the report of " << run.task->name();
  return NAN;
}

TEST(TaskQuality, AddingProblemAtT50IsSolved) {
  TrainingSetup s;
  s.task = "adding";
  s.options.seq_len = 50;
  s.steps = 1500;  // 1,000 reach MSE 0.0073 with these seeds: too close to the bar
  const TaskRun run = train_task(s);
  const double baseline = reported(run, run.after, "baseline_mse");
  EXPECT_NEAR(baseline, 0.167, 0.02);
  EXPECT_LT(run.after.mean_loss, 0.01) << "baseline " << baseline << ", before " << run.before.mean_loss;
}

TEST(TaskQuality, CopyTaskIsLearned) {
  TrainingSetup s;
  s.task = "copy";
  s.cell = CellKind::gru;  // the CLI's default for copy: an LSTM plateaus at chance far longer
  s.hidden = 128;
  s.steps = 1000;
  const TaskRun run = train_task(s);
  ASSERT_TRUE(run.after.accuracy.has_value());
  EXPECT_GT(*run.after.accuracy, 0.9) << "chance 0.125, before " << run.before.accuracy.value_or(NAN);
}

TEST(TaskQuality, CharlmOnTheEmbeddedCorpusIsBelowThreeBitsPerChar) {
  TrainingSetup s;
  s.task = "charlm";
  s.hidden = 128;
  s.steps = 400;  // 2.58 bits/char; 250 steps gave 2.90, too near the bar for a corpus that
                  // changes with every commit (it is the source tree)
  s.options.seq_len = 64;
  s.options.batch = 32;
  const TaskRun run = train_task(s);
  const double bits = reported(run, run.after, "bits_per_char");
  EXPECT_LT(bits, 3.0) << "unigram " << reported(run, run.after, "unigram_bits");
  EXPECT_LT(bits, reported(run, run.after, "unigram_bits") - 1.0);
}

TEST(TaskQuality, TimeseriesBeatsPersistenceFiveTimes) {
  TrainingSetup s;
  s.task = "timeseries";
  s.steps = 800;
  const TaskRun run = train_task(s);
  const double nrmse = reported(run, run.after, "nrmse");
  const double persistence = reported(run, run.after, "persistence_nrmse");
  EXPECT_LT(nrmse * 5, persistence) << "nrmse " << nrmse << ", persistence " << persistence;
}

TEST(TaskQuality, ClassifyBeatsChanceThreeTimes) {
  TrainingSetup s;
  s.task = "classify";
  s.steps = 400;
  const TaskRun run = train_task(s);
  ASSERT_TRUE(run.after.accuracy.has_value());
  EXPECT_GT(*run.after.accuracy, 3 * reported(run, run.after, "chance_accuracy"));
}

}  // namespace
}  // namespace gpurnn::testing
