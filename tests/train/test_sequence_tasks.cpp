// The output-sequence tasks (translate, sort, convex-hull, tsp): their reports score the
// references as perfect and known-bad outputs as bad, their labels are what their solvers say,
// and `gpurnn run`'s text inputs parse into the batches the models read.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "gpurnn/train/task.h"
#include "tasks/task_registry.h"
#include "test_support.h"
#include "tasks/geometry.h"
#include "tasks/tsp_solvers.h"

namespace gpurnn::testing {
namespace {

using train::SequenceTask;

std::unique_ptr<train::Task> small_task(const std::string& name, std::int64_t points = 0) {
  train::TaskOptions options;
  options.eval_examples = 50;
  options.batch = 16;
  options.points = points;
  return train::make_task(name, options);
}

const SequenceTask& as_sequence(const std::unique_ptr<train::Task>& task) {
  const auto* s = dynamic_cast<const SequenceTask*>(task.get());
  EXPECT_NE(s, nullptr) << task->name();
  return *s;
}

// The reference outputs of every held-out example, in order.
std::vector<std::vector<std::int32_t>> references(const train::Task& task) {
  std::vector<std::vector<std::int32_t>> all;
  const train::BatchSource& eval = task.eval_data();
  for (std::int64_t i = 0; i < eval.batches_per_epoch(); ++i) {
    const train::Batch b = eval.batch(i);
    for (std::int64_t r = 0; r < b.rows(); ++r) {
      std::vector<std::int32_t> out;
      for (std::int64_t u = 0; u < b.targets.dim(0); ++u) {
        const std::int32_t t = b.targets.data_as<std::int32_t>()[u * b.rows() + r];
        if (t != train::kIgnoreTarget) out.push_back(t);
      }
      all.push_back(out);
    }
  }
  return all;
}

double metric(const std::vector<std::pair<std::string, std::string>>& report, const std::string& key) {
  for (const auto& [k, v] : report) {
    if (k == key) return std::stod(v);
  }
  ADD_FAILURE() << "no " << key;
  return NAN;
}

TEST(SequenceTasks, ReferencesScorePerfectly) {
  for (const std::string name : {"translate", "sort", "convex-hull", "tsp"}) {
    const auto task = small_task(name);
    const SequenceTask& s = as_sequence(task);
    const auto refs = references(*task);
    ASSERT_EQ(static_cast<std::int64_t>(refs.size()), s.eval_examples()) << name;
    const auto report = s.report_outputs(refs);
    if (name == "translate") {
      EXPECT_EQ(metric(report, "accuracy"), 1.0);
      EXPECT_EQ(metric(report, "bleu"), 1.0);
      EXPECT_LT(metric(report, "constant_accuracy"), 0.2);
    } else if (name == "sort") {
      EXPECT_EQ(metric(report, "accuracy"), 1.0);
      EXPECT_EQ(metric(report, "position_accuracy"), 1.0);
      EXPECT_LT(metric(report, "input_order_accuracy"), 0.1);
    } else if (name == "convex-hull") {
      EXPECT_EQ(metric(report, "accuracy"), 1.0);
      EXPECT_NEAR(metric(report, "area_coverage"), 1.0, 1e-4);
      EXPECT_EQ(metric(report, "failures"), 0.0);
    } else {
      EXPECT_EQ(metric(report, "model_tour"), metric(report, "label_tour"));
      EXPECT_LE(metric(report, "label_tour"), metric(report, "two_opt_tour") + 1e-9);
      EXPECT_LE(metric(report, "two_opt_tour"), metric(report, "nn_tour") + 1e-9);
    }
  }
}

TEST(SequenceTasks, BadOutputsScoreBadly) {
  {
    const auto task = small_task("sort");
    auto outputs = references(*task);
    for (auto& o : outputs) std::reverse(o.begin(), o.end());
    EXPECT_EQ(metric(as_sequence(task).report_outputs(outputs), "accuracy"), 0.0);
  }
  {
    const auto task = small_task("translate");
    auto outputs = references(*task);
    for (auto& o : outputs) o = {0};  // the empty string
    const auto report = as_sequence(task).report_outputs(outputs);
    EXPECT_EQ(metric(report, "accuracy"), 0.0);
    EXPECT_EQ(metric(report, "bleu"), 0.0);
  }
  {
    const auto task = small_task("convex-hull");
    auto outputs = references(*task);
    for (auto& o : outputs) o.erase(o.begin());  // drop a hull vertex: never exact, area below 1
    const auto report = as_sequence(task).report_outputs(outputs);
    EXPECT_EQ(metric(report, "accuracy"), 0.0);
    EXPECT_LT(metric(report, "area_coverage"), 1.0);
  }
  {
    const auto task = small_task("tsp", 8);
    auto outputs = references(*task);
    for (auto& o : outputs) std::sort(o.begin(), o.end());  // the input order
    const auto report = as_sequence(task).report_outputs(outputs);
    EXPECT_GT(metric(report, "model_tour"), metric(report, "nn_tour"));
  }
  const auto task = small_task("sort");
  expect_error([&] { as_sequence(task).report_outputs({{0}}); }, ErrorCode::invalid_argument, {"outputs", "50"});
}

TEST(SequenceTasks, LabelsAreTheSolversAnswers) {
  const auto task = small_task("tsp", 7);
  const train::Batch b = task->train_data().batch(3);
  for (std::int64_t r = 0; r < b.rows(); ++r) {
    std::vector<train::geometry::Point> points;
    for (std::int64_t s = 0; s < b.steps(); ++s) {
      const float* p = b.inputs.data_as<float>() + (s * b.rows() + r) * 2;
      points.push_back({p[0], p[1]});
    }
    std::vector<int> tour;
    for (std::int64_t u = 0; u < b.targets.dim(0); ++u) tour.push_back(b.targets.data_as<std::int32_t>()[u * b.rows() + r]);
    ASSERT_TRUE(train::tsp::is_tour(tour, 7));
    EXPECT_EQ(tour.front(), 0);
    EXPECT_LT(tour[1], tour.back());  // the canonical direction
    EXPECT_NEAR(train::tsp::tour_length(points, tour),
                train::tsp::tour_length(points, train::tsp::held_karp(points)), 1e-9);
  }
  const auto hull = small_task("convex-hull", 12);
  const train::Batch h = hull->train_data().batch(0);
  for (std::int64_t r = 0; r < h.rows(); ++r) {
    // Position 0 is the end marker [0, 0, 1]; the points follow with flag 0.
    EXPECT_EQ(h.inputs.data_as<float>()[r * 3 + 2], 1.0f);
    std::vector<train::geometry::Point> points;
    for (std::int64_t s = 1; s < h.steps(); ++s) {
      const float* p = h.inputs.data_as<float>() + (s * h.rows() + r) * 3;
      EXPECT_EQ(p[2], 0.0f);
      points.push_back({p[0], p[1]});
    }
    std::vector<int> expected;
    for (int v : train::geometry::convex_hull(points)) expected.push_back(v + 1);
    expected.push_back(0);
    std::vector<int> got;
    for (std::int64_t u = 0; u < h.targets.dim(0); ++u) {
      const std::int32_t t = h.targets.data_as<std::int32_t>()[u * h.rows() + r];
      if (t != train::kIgnoreTarget) got.push_back(t);
    }
    EXPECT_EQ(got, expected);
  }
}

TEST(SequenceTasks, TextInputsParseIntoBatches) {
  const auto tsp = small_task("tsp");
  const train::Batch t = as_sequence(tsp).parse_input("0 0, 1 0, 1 1, 0 1");
  EXPECT_EQ(t.inputs.shape(), Shape({4, 1, 2}));
  EXPECT_FALSE(t.targets.defined());
  EXPECT_NE(as_sequence(tsp).format_output("0 0 1 0 1 1 0 1", {0, 1, 2, 3}).find("length: 4"), std::string::npos);
  expect_error([&] { as_sequence(tsp).parse_input("0 0 1"); }, ErrorCode::invalid_argument, {"tsp", "x y pairs"});
  expect_error([&] { as_sequence(tsp).parse_input("0 0 1 x"); }, ErrorCode::invalid_argument, {"tsp", "'x'"});

  const auto hull = small_task("convex-hull");
  const train::Batch h = as_sequence(hull).parse_input("0 0 2 0 1 1 2 2 0 2");
  EXPECT_EQ(h.inputs.shape(), Shape({6, 1, 3}));
  // Points 0, 1, 3, 4 are the hull; 2 (the centre) is not. Positions are 1-based, 0 ends.
  const std::string formatted = as_sequence(hull).format_output("0 0 2 0 1 1 2 2 0 2", {1, 2, 4, 5, 0});
  EXPECT_NE(formatted.find("hull: 0 1 3 4"), std::string::npos) << formatted;
  EXPECT_NE(formatted.find("exact: yes"), std::string::npos) << formatted;

  const auto sort = small_task("sort");
  EXPECT_EQ(as_sequence(sort).parse_input("0.5 0.1 0.9").inputs.shape(), Shape({3, 1, 1}));
  EXPECT_NE(as_sequence(sort).format_output("0.5 0.1 0.9", {1, 0, 2}).find("sorted: 0.1 0.5 0.9"), std::string::npos);

  const auto translate = small_task("translate");
  const train::Batch w = as_sequence(translate).parse_input("Four thousand and two");
  EXPECT_EQ(w.inputs.shape(), Shape({4, 1}));
  expect_error([&] { as_sequence(translate).parse_input("four banana"); }, ErrorCode::invalid_argument,
               {"translate", "'banana'"});
}

TEST(SequenceTasks, ReverseSourceReversesTheWords) {
  train::TaskOptions forward, reversed;
  reversed.reverse_source = true;
  const auto a = train::make_task("translate", forward), b = train::make_task("translate", reversed);
  const train::Batch x = as_sequence(a).parse_input("one thousand and five");
  const train::Batch y = as_sequence(b).parse_input("one thousand and five");
  for (std::int64_t s = 0; s < 4; ++s) EXPECT_EQ(x.inputs.data_as<std::int32_t>()[s], y.inputs.data_as<std::int32_t>()[3 - s]);
  EXPECT_EQ(b->settings(), (std::vector<std::pair<std::string, std::string>>{{"reverse_source", "1"}, {"batch", "64"}}));
}

}  // namespace
}  // namespace gpurnn::testing
