// make_task and task_names, and the contract every task's batches keep with its interface.
#include <gtest/gtest.h>

#include <map>

#include "test_support.h"
#include "train/batch_test_support.h"
#include "tasks/task_registry.h"

namespace gpurnn::testing {
namespace {

using train::Batch;
using train::InputKind;
using train::TargetKind;

TEST(TaskRegistry, NamesAndUnknownTask) {
  EXPECT_EQ(train::task_names(), (std::vector<std::string>{"charlm", "timeseries", "adding", "copy", "classify",
                                                             "video", "translate", "sort", "convex-hull", "tsp"}));
  expect_error([] { train::make_task("parse", {}); }, ErrorCode::invalid_argument,
               {"make_task", "'task'", "parse", "charlm", "timeseries", "adding", "copy", "classify", "video", "translate",
                "sort", "convex-hull", "tsp"});
  for (const std::string& name : train::task_names()) {
    // Output-sequence tasks have no seq_len (their lengths are the data's); every task has a batch.
    const bool sequence = dynamic_cast<const train::SequenceTask*>(train::make_task(name, {}).get()) != nullptr;
    train::TaskOptions options;
    (sequence ? options.batch : options.seq_len) = -3;
    expect_error([&] { train::make_task(name, options); }, ErrorCode::invalid_argument,
                 {name, sequence ? "batch" : "seq_len", "-3"});
  }
  for (const std::string name : {"sort", "convex-hull", "tsp"}) {
    train::TaskOptions options;
    options.points = 1;
    expect_error([&] { train::make_task(name, options); }, ErrorCode::invalid_argument, {name, "points", "1"});
  }
}

// Inputs, targets and lengths have the shapes and ranges ModelInterface promises.
void expect_batch_fits(const Batch& batch, const train::ModelInterface& interface, const std::string& what) {
  SCOPED_TRACE(what);
  const std::int64_t steps = batch.steps(), rows = batch.rows();
  ASSERT_GE(steps, 1);
  ASSERT_GE(rows, 1);
  ASSERT_EQ(batch.lengths.shape(), Shape({rows}));
  ASSERT_TRUE(batch.carry_state.empty() || batch.carry_state.size() == static_cast<std::size_t>(rows));
  for (std::int64_t row = 0; row < rows; ++row) {
    ASSERT_GE(length_of(batch, row), 1);
    ASSERT_LE(length_of(batch, row), steps);
  }
  if (interface.input == InputKind::tokens) {
    ASSERT_EQ(batch.inputs.shape(), Shape({steps, rows}));
    for (std::int64_t i = 0; i < batch.inputs.numel(); ++i) {
      const std::int32_t token = batch.inputs.data_as<std::int32_t>()[i];
      ASSERT_TRUE(token >= 0 && token < interface.input_size) << token;
    }
  } else {
    ASSERT_EQ(batch.inputs.shape(), Shape({steps, rows, interface.input_size}));
    ASSERT_TRUE(all_finite(batch.inputs));
  }
  if (train::is_sequence_target(interface.target)) {
    // Output sequences: [U, rows] of tokens, or of positions within the row's input.
    ASSERT_EQ(batch.targets.rank(), 2);
    ASSERT_EQ(batch.targets.dim(1), rows);
    std::int64_t counted = 0;
    for (std::int64_t i = 0; i < batch.targets.numel(); ++i) {
      const std::int32_t target = batch.targets.data_as<std::int32_t>()[i];
      const std::int64_t limit =
          interface.target == TargetKind::output_tokens ? interface.output_size : length_of(batch, i % rows);
      ASSERT_TRUE(target == train::kIgnoreTarget || (target >= 0 && target < limit)) << target;
      counted += target != train::kIgnoreTarget;
    }
    ASSERT_GT(counted, 0);
    return;
  }
  const bool per_step = interface.target == TargetKind::step_classes || interface.target == TargetKind::step_values;
  const bool classes = interface.target == TargetKind::step_classes || interface.target == TargetKind::final_classes;
  Shape expected = per_step ? Shape({steps, rows}) : Shape({rows});
  if (!classes) expected.push_back(interface.output_size);
  ASSERT_EQ(batch.targets.shape(), expected);
  if (classes) {
    std::int64_t counted = 0;
    for (std::int64_t i = 0; i < batch.targets.numel(); ++i) {
      const std::int32_t target = batch.targets.data_as<std::int32_t>()[i];
      ASSERT_TRUE(target == train::kIgnoreTarget || (target >= 0 && target < interface.output_size)) << target;
      if (per_step && target != train::kIgnoreTarget) {
        ASSERT_LT(i / rows, length_of(batch, i % rows)) << "a counted target past the row's length";
      }
      counted += target != train::kIgnoreTarget;
    }
    ASSERT_GT(counted, 0);
  } else {
    ASSERT_TRUE(all_finite(batch.targets));
  }
}

TEST(TaskRegistry, EveryTaskKeepsItsInterfaceAndIsDeterministic) {
  for (const std::string& name : train::task_names()) {
    const auto task = train::make_task(name, {});
    EXPECT_EQ(task->name(), name);
    EXPECT_FALSE(task->describe().empty());
    EXPECT_FALSE(task->report({}).empty());
    EXPECT_EQ(task->token_text(0).empty(), name != "charlm");
    for (const train::BatchSource* source : {&task->train_data(), &task->eval_data()}) {
      ASSERT_GE(source->batches_per_epoch(), 1) << name;
      const std::int64_t n = source->batches_per_epoch();
      for (std::int64_t i : {std::int64_t{0}, n - 1, n, 3 * n + 1}) {
        expect_batch_fits(source->batch(i), task->interface(), name + " batch " + std::to_string(i));
      }
    }
    expect_deterministic(task->train_data(), 3);
    // The resolved batch (and the length or point count a flag sets) is recorded for checkpoints,
    // so that a resume with other data settings can be refused.
    std::map<std::string, std::string> settings;
    for (const auto& [key, value] : task->settings()) settings[key] = value;
    EXPECT_EQ(settings["batch"], std::to_string(task->train_data().batch(0).rows())) << name;
    const bool pointer = name == "sort" || name == "convex-hull" || name == "tsp";
    EXPECT_EQ(settings.count(pointer ? "points" : "seq_len"), name == "translate" ? 0u : 1u) << name;
    std::cout << name << ": " << task->describe() << "\n";
  }
}

}  // namespace
}  // namespace gpurnn::testing
