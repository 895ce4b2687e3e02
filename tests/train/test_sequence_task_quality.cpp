// The learning bars of the output-sequence tasks (issue 8), on the CPU with fixed seeds and small
// sizes: a tiny training run of each task must beat its trivial baseline on held-out examples,
// decoded greedily. Learning tests, not timed tests: only the result is checked.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>

#include "gpurnn/train/seq2seq.h"
#include "gpurnn/train/trainer.h"
#include "tasks/task_registry.h"

namespace gpurnn::testing {
namespace {

struct RunSetup {
  std::string task;
  std::int64_t points = 0;
  std::int64_t steps = 300;
  std::int64_t hidden = 64;
  train::AttentionScore attention = train::AttentionScore::additive;
  std::string schedule = "cosine";
};

// Trains and returns the decoded report (plus the teacher-forced one), keyed by metric.
std::map<std::string, double> train_and_report(const RunSetup& s) {
  train::TaskOptions options;
  options.points = s.points;
  options.eval_examples = 300;
  const auto task = train::make_task(s.task, options);
  const auto& sequence = dynamic_cast<const train::SequenceTask&>(*task);
  train::Seq2SeqConfig c;
  c.io = task->interface();
  c.hidden = s.hidden;
  c.attention = s.attention;
  c.seed = 1;
  c.threads = 1;  // small GEMMs: see the tasks' defaults in src/cli/train_command.cpp
  train::Seq2SeqModel model(c);
  train::TrainConfig t;
  t.steps = s.steps;
  t.schedule.kind = s.schedule;
  t.schedule.base_lr = 3e-3;
  t.schedule.warmup_steps = s.schedule == "cosine" ? s.steps / 20 : 0;
  t.schedule.total_steps = s.steps;
  t.clip = 1.0;
  train::Trainer trainer(*task, model, t);
  trainer.run();
  std::map<std::string, double> report;
  std::string line;
  for (const auto& [k, v] : sequence.report_outputs(train::decode_source(model, task->eval_data(), {}))) {
    report[k] = std::stod(v);
    line += " " + k + "=" + v;
  }
  std::printf("%s after %lld steps:%s\n", s.task.c_str(), static_cast<long long>(s.steps), line.c_str());
  return report;
}

TEST(SequenceTaskQuality, TranslateBeatsTheConstantAnswer) {
  RunSetup s;
  s.task = "translate";
  s.steps = 200;
  s.attention = train::AttentionScore::general;
  const auto r = train_and_report(s);
  EXPECT_GT(r.at("accuracy"), 0.5);
  EXPECT_GT(r.at("accuracy"), 10 * r.at("constant_accuracy"));
  EXPECT_GT(r.at("bleu"), 0.8);
}

TEST(SequenceTaskQuality, SortBeatsTheInputOrder) {
  RunSetup s;
  s.task = "sort";
  s.points = 6;
  const auto r = train_and_report(s);
  EXPECT_GT(r.at("accuracy"), 0.5);
  EXPECT_GT(r.at("position_accuracy"), 3 * r.at("input_order_position_accuracy"));
}

TEST(SequenceTaskQuality, ConvexHullCoversMostOfTheArea) {
  RunSetup s;
  s.task = "convex-hull";
  s.points = 8;
  s.steps = 600;
  s.schedule = "constant";
  const auto r = train_and_report(s);
  EXPECT_GT(r.at("area_coverage"), 0.7);
  EXPECT_GT(r.at("accuracy"), 0.2);
}

TEST(SequenceTaskQuality, TspBeatsTheNearestNeighbourTour) {
  RunSetup s;
  s.task = "tsp";
  s.points = 5;
  s.steps = 1200;
  s.schedule = "constant";
  const auto r = train_and_report(s);
  EXPECT_LT(r.at("model_tour"), r.at("nn_tour"));
  EXPECT_EQ(r.at("invalid_tours"), 0.0);
}

}  // namespace
}  // namespace gpurnn::testing
