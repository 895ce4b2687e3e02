// adding, copy and classify: every target recomputed from the inputs that produced it.
#include <cmath>
#include <map>

#include <gtest/gtest.h>

#include "test_support.h"
#include "train/batch_test_support.h"
#include "tasks/counter_rng.h"
#include "tasks/waveforms.h"
#include "tasks/task_registry.h"

namespace gpurnn::testing {
namespace {

using train::Batch;
using train::TaskOptions;
using namespace train::tasks;

TEST(AddingTask, TwoMarkersOneInEachHalfAndTheirSum) {
  TaskOptions options;
  options.seq_len = 13;  // odd: halves [0, 6) and [6, 13)
  options.batch = 20;
  const auto task = train::make_task("adding", options);
  EXPECT_EQ(task->interface().input_size, 2);
  EXPECT_EQ(task->interface().target, train::TargetKind::final_values);
  for (const train::BatchSource* source : {&task->train_data(), &task->eval_data()}) {
    for (std::int64_t i = 0; i < 3; ++i) {
      const Batch batch = source->batch(i);
      ASSERT_EQ(batch.inputs.shape(), Shape({13, 20, 2}));
      ASSERT_EQ(batch.targets.shape(), Shape({20, 1}));
      for (std::int64_t row = 0; row < 20; ++row) {
        EXPECT_EQ(length_of(batch, row), 13);
        std::vector<std::int64_t> marked;
        double sum = 0.0;
        for (std::int64_t t = 0; t < 13; ++t) {
          const float value = batch.inputs.data_as<float>()[(t * 20 + row) * 2];
          const float marker = batch.inputs.data_as<float>()[(t * 20 + row) * 2 + 1];
          EXPECT_TRUE(value >= 0.0f && value < 1.0f);
          ASSERT_TRUE(marker == 0.0f || marker == 1.0f);
          if (marker == 1.0f) {
            marked.push_back(t);
            sum += value;
          }
        }
        ASSERT_EQ(marked.size(), 2u);
        EXPECT_LT(marked[0], 6);
        EXPECT_GE(marked[1], 6);
        EXPECT_FLOAT_EQ(batch.targets.data_as<float>()[row], static_cast<float>(sum));
      }
    }
  }
  // Predicting 1.0 scores Var(U1 + U2) = 1/6 on the held-out examples.
  EXPECT_NEAR(std::stod(report_value(*task, {}, "baseline_mse")), 1.0 / 6.0, 0.02);
  train::EvalResult result;
  result.mean_loss = 0.00123;
  EXPECT_EQ(report_value(*task, result, "mse"), "0.00123");
}

TEST(CopyTask, OutputStepsRepeatTheSymbols) {
  TaskOptions options;
  options.seq_len = 7;
  options.batch = 9;
  const auto task = train::make_task("copy", options);
  const train::ModelInterface interface = task->interface();
  EXPECT_EQ(interface.input, train::InputKind::tokens);
  EXPECT_EQ(interface.input_size, 10);
  EXPECT_EQ(interface.output_size, 8);
  const Batch batch = task->train_data().batch(4);
  const std::int64_t steps = 10 + 7 + 1 + 10;
  ASSERT_EQ(batch.inputs.shape(), Shape({steps, 9}));
  const std::int32_t* x = batch.inputs.data_as<std::int32_t>();
  const std::int32_t* y = batch.targets.data_as<std::int32_t>();
  for (std::int64_t row = 0; row < 9; ++row) {
    for (std::int64_t t = 0; t < steps; ++t) {
      const std::int32_t input = x[t * 9 + row], target = y[t * 9 + row];
      if (t < 10) {
        EXPECT_TRUE(input >= 0 && input < 8);
      } else {
        EXPECT_EQ(input, t == 17 ? 9 : 8) << "step " << t;  // blanks, the delimiter at S + T
      }
      EXPECT_EQ(target, t > 17 ? x[(t - 18) * 9 + row] : train::kIgnoreTarget) << "step " << t;
    }
  }
  train::EvalResult result;
  result.mean_loss = 1.5;
  result.accuracy = 0.5;
  EXPECT_EQ(task->report(result), (std::vector<std::pair<std::string, std::string>>{
                                      {"accuracy", "0.5"}, {"chance_accuracy", "0.125"},
                                      {"loss", "1.5"}, {"baseline_loss", "2.079"}}));
}

TEST(GeneratedTasks, SeedsAndSplitsDrawDifferentExamples) {
  for (const char* name : {"adding", "copy", "classify"}) {
    TaskOptions options;
    options.batch = 8;
    const auto task = train::make_task(name, options);
    const TaskOptions same_options = options;
    options.seed = 2;
    const auto other = train::make_task(name, options);
    EXPECT_TRUE(same_batch(task->train_data().batch(3), train::make_task(name, same_options)->train_data().batch(3)))
        << name;
    EXPECT_FALSE(same_batch(task->train_data().batch(3), other->train_data().batch(3))) << name;
    EXPECT_FALSE(same_batch(task->train_data().batch(0), task->eval_data().batch(0))) << name;
    EXPECT_FALSE(same_batch(task->train_data().batch(0), task->train_data().batch(1))) << name;
    expect_deterministic(task->train_data(), 4);
  }
}

TEST(Waveforms, ShapesAtKnownPhases) {
  EXPECT_NEAR(waveform_shape(Waveform::sine, 0.25), 1.0, 1e-12);
  EXPECT_EQ(waveform_shape(Waveform::square, 0.1), 1.0);
  EXPECT_EQ(waveform_shape(Waveform::square, 1.6), -1.0);
  EXPECT_NEAR(waveform_shape(Waveform::sawtooth, 0.75), 0.5, 1e-12);
  EXPECT_NEAR(waveform_shape(Waveform::triangle, 0.5), 1.0, 1e-12);
  EXPECT_NEAR(waveform_shape(Waveform::triangle, 0.25), 0.0, 1e-12);
  EXPECT_NEAR(waveform_shape(Waveform::triangle, -1.0), -1.0, 1e-12);
}

// Every training sequence of `classify` is found among the waveforms its (seed, n) draws, with
// the label of that waveform's kind, and differs from the clean signal by noise of the stated size.
TEST(ClassifyTask, LabelsAreTheKindOfTheWaveformInTheFrames) {
  TaskOptions options;
  options.seed = 5;
  const auto task = train::make_task("classify", options);
  EXPECT_EQ(task->interface().output_size, kWaveformKinds);
  EXPECT_EQ(task->interface().input_size, kWaveformChannels);
  std::map<std::vector<float>, std::pair<WaveformParams, std::int32_t>> drawn;  // first frame
  double noise_squares = 0.0;
  std::int64_t noise_count = 0;
  for (std::uint64_t n = 0; n < 4096; ++n) {
    CounterRng rng({5, kDatasetStream, kTrainStream, n});
    const WaveformParams params = draw_waveform(rng, 20, 60);
    const std::vector<float> frames = render_waveform(params, kWaveformNoise, rng);
    CounterRng unused({0});
    const std::vector<float> clean = render_waveform(params, 0.0, unused);
    for (std::size_t i = 0; i < frames.size(); ++i, ++noise_count) {
      noise_squares += (frames[i] - clean[i]) * (frames[i] - clean[i]);
    }
    drawn[std::vector<float>(frames.begin(), frames.begin() + kWaveformChannels)] = {params, static_cast<std::int32_t>(params.kind)};
  }
  EXPECT_NEAR(std::sqrt(noise_squares / static_cast<double>(noise_count)), kWaveformNoise, 0.01);
  std::vector<std::int64_t> per_class(kWaveformKinds, 0);
  for (std::int64_t i = 0; i < task->train_data().batches_per_epoch(); ++i) {
    const Batch batch = task->train_data().batch(i);
    for (std::int64_t row = 0; row < batch.rows(); ++row) {
      std::vector<float> first(kWaveformChannels);
      for (std::int64_t c = 0; c < kWaveformChannels; ++c) {
        first[static_cast<std::size_t>(c)] = batch.inputs.data_as<float>()[row * kWaveformChannels + c];
      }
      const auto found = drawn.find(first);
      ASSERT_NE(found, drawn.end()) << "batch " << i << " row " << row;
      EXPECT_EQ(length_of(batch, row), found->second.first.length);
      const std::int32_t label = batch.targets.data_as<std::int32_t>()[row];
      EXPECT_EQ(label, found->second.second);
      ++per_class[static_cast<std::size_t>(label)];
    }
  }
  for (std::int64_t count : per_class) EXPECT_NEAR(count, 4096 / kWaveformKinds, 150);
  const double chance = std::stod(report_value(*task, {}, "chance_accuracy"));
  EXPECT_GT(chance, 0.19);
  EXPECT_LT(chance, 0.25);
}

TEST(ClassifyTask, LengthsFollowSeqLen) {
  TaskOptions options;
  options.seq_len = 30;
  const auto task = train::make_task("classify", options);
  for (std::int64_t i = 0; i < task->eval_data().batches_per_epoch(); ++i) {
    const Batch batch = task->eval_data().batch(i);
    EXPECT_LE(batch.steps(), 30);
    for (std::int64_t row = 0; row < batch.rows(); ++row) {
      EXPECT_GE(length_of(batch, row), 10);
      EXPECT_LE(length_of(batch, row), 30);
    }
  }
}

}  // namespace
}  // namespace gpurnn::testing
