// The timeseries task: the Mackey-Glass series, normalisation, horizon targets, the
// persistence baseline, and the CSV reader's errors.
#include <cmath>
#include <fstream>

#include <gtest/gtest.h>

#include "test_support.h"
#include "train/batch_test_support.h"
#include "tasks/csv_column.h"
#include "gpurnn/train/model.h"
#include "gpurnn/train/trainer.h"
#include "tasks/mackey_glass.h"
#include "tasks/series_source.h"
#include "tasks/task_registry.h"

namespace gpurnn::testing {
namespace {

using train::Batch;
using train::TaskOptions;
using train::tasks::mackey_glass_series;
using train::tasks::read_csv_column;

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(MackeyGlass, RangeMeanAndQuasiPeriodOfTau17) {
  const std::vector<double> x = mackey_glass_series(5000);
  ASSERT_EQ(x.size(), 5000u);
  double mean = 0.0;
  for (double v : x) mean += v;
  mean /= static_cast<double>(x.size());
  double variance = 0.0;
  for (double v : x) variance += (v - mean) * (v - mean);
  const double sd = std::sqrt(variance / static_cast<double>(x.size()));
  // The chaotic attractor of tau = 17 stays within about [0.2, 1.4], mean about 0.9, sd 0.23.
  EXPECT_GT(*std::min_element(x.begin(), x.end()), 0.15);
  EXPECT_LT(*std::max_element(x.begin(), x.end()), 1.45);
  EXPECT_NEAR(mean, 0.90, 0.05);
  EXPECT_NEAR(sd, 0.23, 0.04);
  // Quasi-period about 50: the autocorrelation's highest peak between lags 30 and 80.
  auto autocorrelation = [&](std::size_t lag) {
    double sum = 0.0;
    for (std::size_t i = 0; i + lag < x.size(); ++i) sum += (x[i] - mean) * (x[i + lag] - mean);
    return sum / (static_cast<double>(x.size() - lag) * sd * sd);
  };
  std::size_t peak = 30;
  for (std::size_t lag = 30; lag <= 80; ++lag) {
    if (autocorrelation(lag) > autocorrelation(peak)) peak = lag;
  }
  EXPECT_GE(peak, 45u);
  EXPECT_LE(peak, 55u);
  EXPECT_LT(autocorrelation(peak / 2), 0.0);  // half a period away: anti-correlated
}

TEST(TimeseriesTask, NormalisedInputsAndHorizonTargets) {
  TaskOptions options;
  options.horizon = 3;
  options.ar_skip = false;  // the targets are the values themselves
  const auto task = train::make_task("timeseries", options);
  const train::ModelInterface interface = task->interface();
  EXPECT_EQ(interface.input, train::InputKind::features);
  EXPECT_EQ(interface.target, train::TargetKind::step_values);
  EXPECT_EQ(interface.output_size, 3);
  double sum = 0.0, squares = 0.0;
  std::int64_t count = 0, checked = 0;
  for (std::int64_t i = 0; i < task->train_data().batches_per_epoch(); ++i) {
    const Batch batch = task->train_data().batch(i);
    const std::int64_t rows = batch.rows();
    const float* x = batch.inputs.data_as<float>();
    const float* y = batch.targets.data_as<float>();
    for (std::int64_t row = 0; row < rows; ++row) {
      const std::int64_t length = length_of(batch, row);
      for (std::int64_t t = 0; t < length; ++t, ++count) {
        sum += x[t * rows + row];
        squares += x[t * rows + row] * x[t * rows + row];
        for (std::int64_t j = 0; j < 3 && t + 1 + j < length; ++j, ++checked) {
          EXPECT_EQ(y[(t * rows + row) * 3 + j], x[(t + 1 + j) * rows + row]);
        }
      }
    }
  }
  const double mean = sum / static_cast<double>(count);
  EXPECT_NEAR(mean, 0.0, 0.02);  // normalised on the training split (a few positions unused)
  EXPECT_NEAR(std::sqrt(squares / static_cast<double>(count) - mean * mean), 1.0, 0.02);
  EXPECT_GT(checked, count * 2);
}

TEST(TimeseriesTask, PersistenceBaselineInTheReportsUnits) {
  for (std::int64_t horizon : {1, 4}) {
    TaskOptions options;
    options.horizon = horizon;
    options.ar_skip = false;
    const auto task = train::make_task("timeseries", options);
    // The loss of the persistence prediction, as the trainer would report it: squared error
    // summed over a step's h values, averaged over the counted steps; and the targets' sd.
    double loss = 0.0, sum = 0.0, squares = 0.0;
    std::int64_t steps = 0;
    const train::BatchSource& eval = task->eval_data();
    EXPECT_GT(task->eval_warmup_batches(), 0);  // the history before the held-out part, uncounted
    for (std::int64_t i = task->eval_warmup_batches(); i < eval.batches_per_epoch(); ++i) {
      const Batch batch = eval.batch(i);
      for (std::int64_t row = 0; row < batch.rows(); ++row) {
        for (std::int64_t t = 0; t < length_of(batch, row); ++t, ++steps) {
          const double x = batch.inputs.data_as<float>()[t * batch.rows() + row];
          for (std::int64_t j = 0; j < horizon; ++j) {
            const double y = batch.targets.data_as<float>()[(t * batch.rows() + row) * horizon + j];
            loss += (y - x) * (y - x);
            sum += y;
            squares += y * y;
          }
        }
      }
    }
    const double values = static_cast<double>(steps * horizon);
    const double sd = std::sqrt(squares / values - (sum / values) * (sum / values));
    const double persistence = std::sqrt(loss / values) / sd;
    EXPECT_NEAR(std::stod(report_value(*task, {}, "persistence_nrmse")), persistence, 1e-3 * persistence);
    // A model that predicts persistence scores the baseline exactly.
    train::EvalResult eval_result;
    eval_result.mean_loss = loss / static_cast<double>(steps);
    EXPECT_EQ(report_value(*task, eval_result, "nrmse"), report_value(*task, eval_result, "persistence_nrmse"));
    EXPECT_GT(persistence, horizon == 1 ? 0.05 : 0.3);  // predicting 4 steps ahead is harder
  }
}

TEST(TimeseriesTask, ReadsACsvColumn) {
  ScratchDir dir;
  std::string text = "time, \"load, kW\",other\r\n";
  for (int i = 0; i < 400; ++i) {
    text += std::to_string(i) + "," + std::to_string(std::sin(0.1 * i) * 5.0 + 20.0) + ",x\r\n";
  }
  write_file(dir.file("load.csv"), text);
  const std::vector<double> column = read_csv_column(dir.file("load.csv"), "load, kW");
  ASSERT_EQ(column.size(), 400u);
  EXPECT_NEAR(column[7], std::sin(0.7) * 5.0 + 20.0, 1e-5);
  TaskOptions options;
  options.csv_path = dir.file("load.csv");
  options.csv_column = "load, kW";
  options.seq_len = 20;
  const auto task = train::make_task("timeseries", options);
  EXPECT_NE(task->describe().find("load, kW"), std::string::npos) << task->describe();
  // The default batch (16) shrinks to what the training split holds: of the 320 values of the
  // training range the last 64 validate, and 256 values give 255 inputs / 20 = 12 lanes.
  EXPECT_EQ(task->train_data().batch(0).rows(), 12);
}

// Issue 22: one value of 1e300 gave nrmse=inf persistence_nrmse=-nan and rc 0. A value that
// overflows the statistics, or float32 once normalised, is refused with its data row.
TEST(TimeseriesTask, ValuesThatOverflowAreRefusedWithTheirRow) {
  ScratchDir dir;
  const auto series_with = [&](const std::string& name, std::size_t row, const char* value) {
    std::string text = "value\n";
    for (std::size_t i = 1; i <= 200; ++i) text += (i == row ? std::string(value) : std::to_string(i % 17)) + "\n";
    write_file(dir.file(name), text);
    TaskOptions options;
    options.csv_path = dir.file(name);
    options.csv_column = "value";
    return options;
  };
  const TaskOptions in_training = series_with("train.csv", 7, "1e300");
  expect_error([&] { train::make_task("timeseries", in_training); }, ErrorCode::invalid_argument,
               {"train.csv", "'value'", "overflows", "data row 7", "1e+300"});
  const TaskOptions held_out = series_with("eval.csv", 190, "1e300");
  expect_error([&] { train::make_task("timeseries", held_out); }, ErrorCode::invalid_argument,
               {"eval.csv", "data row 190", "out of float32 range"});
  EXPECT_NO_THROW(train::make_task("timeseries", series_with("fine.csv", 190, "1e6")));
}

// Issue 34 item 9: a byte-order mark is skipped, a column named twice and an unterminated quote
// are refused (the header's too), on the parser the fuzz target drives.
TEST(TimeseriesTask, CsvByteOrderMarkDuplicateNamesAndOpenQuotes) {
  using train::tasks::parse_csv_column;
  EXPECT_EQ(parse_csv_column("\xEF\xBB\xBFvalue\n1\n2.5\n", "a.csv", "value"), (std::vector<double>{1.0, 2.5}));
  EXPECT_EQ(parse_csv_column("x,value,x\n1,2,3\n", "a.csv", "value"), std::vector<double>{2.0});  // others may repeat
  expect_error([&] { parse_csv_column("t,value,value\n1,2,3\n", "a.csv", "value"); }, ErrorCode::invalid_argument,
               {"a.csv", "'value'", "twice", "columns 2 and 3"});
  expect_error([&] { parse_csv_column("value\n1\n\"2\n3\n", "a.csv", "value"); }, ErrorCode::invalid_argument,
               {"a.csv", "line 3", "no closing quote"});
  expect_error([&] { parse_csv_column("\"value\n1\n", "a.csv", "value"); }, ErrorCode::invalid_argument,
               {"a.csv", "line 1", "no closing quote"});
  EXPECT_EQ(parse_csv_column("\"va\"\"l\",v\n\"1\",2\n", "a.csv", "va\"l"), std::vector<double>{1.0});
}

TEST(TimeseriesTask, CsvErrorsNameTheFileAndTheCell) {
  ScratchDir dir;
  write_file(dir.file("a.csv"), "time,value\n1,2.5\n2,abc\n");
  expect_error([&] { read_csv_column(dir.file("a.csv"), "price"); }, ErrorCode::invalid_argument,
               {"csv_column", "'price'", "a.csv", "'time'", "'value'"});
  expect_error([&] { read_csv_column(dir.file("a.csv"), "value"); }, ErrorCode::invalid_argument,
               {"a.csv", "line 3", "'value'", "'abc'"});
  write_file(dir.file("short_record.csv"), "time,value\n1,2.5\n2\n");
  expect_error([&] { read_csv_column(dir.file("short_record.csv"), "value"); },
               ErrorCode::invalid_argument, {"line 3", "missing"});
  write_file(dir.file("empty.csv"), "");
  expect_error([&] { read_csv_column(dir.file("empty.csv"), "value"); }, ErrorCode::invalid_argument,
               {"empty.csv", "empty"});
  expect_error([&] { read_csv_column(dir.file("missing.csv"), "value"); }, ErrorCode::io_error,
               {"missing.csv", "csv"});

  write_file(dir.file("few.csv"), "value\n1\n2\n3\n4\n5\n6\n7\n8\n9\n");
  TaskOptions options;
  options.csv_path = dir.file("few.csv");
  options.csv_column = "value";
  expect_error([&] { train::make_task("timeseries", options); }, ErrorCode::invalid_argument,
               {"few.csv", "too few rows", "9", "needs at least 20"});
  options.csv_column.clear();
  expect_error([&] { train::make_task("timeseries", options); }, ErrorCode::invalid_argument,
               {"csv_column", "required"});
  options = {};
  options.seq_len = 9000;
  expect_error([&] { train::make_task("timeseries", options); }, ErrorCode::invalid_argument,
               {"make_task(timeseries)", "seq_len", "9000", "larger than the data"});
  options.seq_len = 100;
  options.batch = 100;
  expect_error([&] { train::make_task("timeseries", options); }, ErrorCode::invalid_argument,
               {"batch", "100"});
}

// Issue 32 item 5: empty cells (pandas' NaN) are refused naming the line and --fill, or filled
// from the previous value, interpolated, or dropped; the leading ones have nothing to fill from.
TEST(TimeseriesTask, CsvEmptyCellsAreRefusedFilledOrDropped) {
  using train::tasks::CsvFill;
  using train::tasks::FillMode;
  using train::tasks::parse_csv_column;
  const std::string text = "t,value\n1,\n2,1\n3,\n4,NaN\n5,4\n6,\n";
  expect_error([&] { parse_csv_column(text, "a.csv", "value"); }, ErrorCode::invalid_argument,
               {"a.csv", "line 2", "'value'", "empty", "--fill previous", "interpolate", "drop"});
  CsvFill fill;
  fill.mode = FillMode::previous;
  EXPECT_EQ(parse_csv_column(text, "a.csv", "value", &fill), (std::vector<double>{1, 1, 1, 4, 4}));
  EXPECT_EQ(fill.filled, 3);
  EXPECT_EQ(fill.dropped, 1);
  fill.mode = FillMode::interpolate;
  EXPECT_EQ(parse_csv_column(text, "a.csv", "value", &fill), (std::vector<double>{1, 2, 3, 4, 4}));
  EXPECT_EQ(fill.filled, 3);
  fill.mode = FillMode::drop;
  EXPECT_EQ(parse_csv_column(text, "a.csv", "value", &fill), (std::vector<double>{1, 4}));
  EXPECT_EQ(fill.dropped, 4);
  expect_error([&] { train::tasks::parse_fill_mode("zero", "--fill"); }, ErrorCode::invalid_argument,
               {"--fill", "'zero'", "previous, interpolate or drop"});
}

// A noiseless sine is an AR(2) process: the least-squares AR baseline, its order chosen on the
// validation split, predicts it almost exactly, far below persistence, in levels and differences.
TEST(TimeseriesTask, ArBaselineFitsASineAndTheSplitsDoNotOverlap) {
  ScratchDir dir;
  std::string text = "value\n";
  for (int i = 0; i < 500; ++i) text += std::to_string(3.0 + std::sin(0.3 * i) + 0.01 * i) + "\n";
  write_file(dir.file("sine.csv"), text);
  for (bool difference : {false, true}) {
    TaskOptions options;
    options.csv_path = dir.file("sine.csv");
    options.csv_column = "value";
    options.seq_len = 10;
    options.difference = difference;
    const auto task = train::make_task("timeseries", options);
    const double ar = std::stod(report_value(*task, {}, "ar_nrmse"));
    EXPECT_LT(ar, 0.01) << difference;
    EXPECT_GE(std::stoi(report_value(*task, {}, "ar_order")), 2);
    EXPECT_GT(std::stod(report_value(*task, {}, "persistence_nrmse")), 10 * ar);
    ASSERT_NE(task->validation_data(), nullptr);
    EXPECT_GT(task->validation_warmup_batches(), 0);
    // 500 values: a training range of 400, whose last 80 validate; training chunks carry.
    for (std::int64_t i = 0; i < task->train_data().batches_per_epoch(); ++i) {
      EXPECT_EQ(task->train_data().batch(i).carry_state[0], i > 0 ? 1 : 0);
    }
    EXPECT_NE(task->describe().find("training split 320, validation 80"), std::string::npos) << task->describe();
    EXPECT_NE(task->describe().find("held out 100"), std::string::npos) << task->describe();
    EXPECT_NE(task->describe().find("warm-started on the"), std::string::npos) << task->describe();
    // The trend carries the held-out part past the training range's values.
    EXPECT_NE(task->describe().find("leave the training range"), std::string::npos) << task->describe();
    if (difference) {
      EXPECT_NE(task->describe().find("first differences"), std::string::npos) << task->describe();
      bool recorded = false;
      for (const auto& [key, value] : task->settings()) recorded = recorded || (key == "difference" && value == "1");
      EXPECT_TRUE(recorded);
    }
  }
}

// With --difference the targets are the changes since x_t: a model that predicts them exactly
// scores nrmse 0, and the persistence prediction (change 0) scores the persistence baseline.
TEST(TimeseriesTask, DifferenceTargetsAreChangesInTheNormalisedUnits) {
  ScratchDir dir;
  std::string text = "value\n";
  for (int i = 0; i < 300; ++i) text += std::to_string(100.0 + 2.0 * i + 5.0 * std::sin(0.5 * i)) + "\n";
  write_file(dir.file("trend.csv"), text);
  TaskOptions options;
  options.csv_path = dir.file("trend.csv");
  options.csv_column = "value";
  options.seq_len = 10;
  options.horizon = 2;
  options.difference = true;
  options.ar_skip = false;
  const auto task = train::make_task("timeseries", options);
  double mean = 0.0, sd = 0.0;
  for (const auto& [key, value] : task->data_record()) {
    if (key == "mean") mean = std::stod(value);
    if (key == "std") sd = std::stod(value);
  }
  EXPECT_NEAR(mean, 2.0, 0.1);  // the mean change
  // Persistence predicts no change: y_j = -j * mean / sd. Its loss, as the trainer would sum it.
  const train::BatchSource& eval = task->eval_data();
  double loss = 0.0;
  std::int64_t steps = 0;
  for (std::int64_t i = task->eval_warmup_batches(); i < eval.batches_per_epoch(); ++i) {
    const Batch batch = eval.batch(i);
    for (std::int64_t row = 0; row < batch.rows(); ++row) {
      for (std::int64_t t = 0; t < length_of(batch, row); ++t, ++steps) {
        for (std::int64_t j = 0; j < 2; ++j) {
          const double y = batch.targets.data_as<float>()[(t * batch.rows() + row) * 2 + j];
          const double e = y + static_cast<double>(j + 1) * mean / sd;
          loss += e * e;
        }
      }
    }
  }
  train::EvalResult persistence;
  persistence.mean_loss = loss / static_cast<double>(steps);
  EXPECT_NEAR(std::stod(report_value(*task, persistence, "nrmse")),
              std::stod(report_value(*task, {}, "persistence_nrmse")), 2e-3);
  EXPECT_EQ(report_value(*task, {}, "nrmse"), "0");
}

// Evaluation reads the history before the held-out part first: a model trained on a sine scores
// better warm-started than from a zero state over the same counted batches.
TEST(TimeseriesTask, WarmStartedEvaluationBeatsAZeroState) {
  ScratchDir dir;
  std::string text = "value\n";
  for (int i = 0; i < 600; ++i) text += std::to_string(std::sin(2 * 3.14159265358979 * i / 25.0)) + "\n";
  write_file(dir.file("sine.csv"), text);
  TaskOptions options;
  options.csv_path = dir.file("sine.csv");
  options.csv_column = "value";
  options.seq_len = 25;
  options.batch = 8;
  const auto task = train::make_task("timeseries", options);
  train::ModelConfig m;
  m.io = task->interface();
  m.hidden = 16;
  m.seed = 2;
  train::SequenceModel model(m);
  train::TrainConfig c;
  c.steps = 150;
  c.schedule.kind = "cosine";
  c.schedule.base_lr = 1e-2;
  c.schedule.total_steps = c.steps;
  train::Trainer trainer(*task, model, c);
  trainer.run();
  const double warm = trainer.evaluate().mean_loss;
  // The same counted batches from zeros: the first one does not carry a state.
  const train::BatchSource& eval = task->eval_data();
  train::RecurrentState state;
  double loss = 0.0;
  std::int64_t count = 0;
  for (std::int64_t i = task->eval_warmup_batches(); i < eval.batches_per_epoch(); ++i) {
    Batch batch = eval.batch(i);
    if (i == task->eval_warmup_batches()) std::fill(batch.carry_state.begin(), batch.carry_state.end(), 0);
    const train::BatchSums sums = model.eval_step(batch, state);
    loss += sums.loss;
    count += sums.count;
  }
  const double cold = loss / static_cast<double>(count);
  EXPECT_LT(warm, cold * 0.9) << "warm " << warm << ", cold " << cold;
}

// The task setting `key`, "" when the task has none.
std::string setting_of(const train::Task& task, const std::string& key) {
  for (const auto& [name, value] : task.settings()) {
    if (name == key) return value;
  }
  return "";
}

// The loss the trainer reports for a model whose every output is 0, over the counted batches of
// `source` (after its `warmup` batches): squared targets summed over the horizon, per step.
double zero_output_loss(const train::BatchSource& source, std::int64_t warmup, std::int64_t horizon) {
  double loss = 0.0;
  std::int64_t steps = 0;
  for (std::int64_t i = warmup; i < source.batches_per_epoch(); ++i) {
    const Batch batch = source.batch(i);
    for (std::int64_t row = 0; row < batch.rows(); ++row) {
      for (std::int64_t t = 0; t < length_of(batch, row); ++t, ++steps) {
        for (std::int64_t j = 0; j < horizon; ++j) {
          const double y = batch.targets.data_as<float>()[(t * batch.rows() + row) * horizon + j];
          loss += y * y;
        }
      }
    }
  }
  return loss / static_cast<double>(steps);
}

// With the AR skip (the default) the targets are what the AR baseline misses, in units of their
// rms on the training split: a model whose output is 0 predicts the AR forecast and scores the AR
// baseline exactly, in levels and differences, one step and several ahead; the coefficients are
// recorded and read back. Without the skip a zero output is the series' mean, far worse.
TEST(TimeseriesTask, ArSkipTargetsAreTheArResidualSoAZeroOutputScoresTheAr) {
  ScratchDir dir;
  std::string text = "value\n";
  double x = 0.3;  // the logistic map at r = 3.7: chaotic, and not linear, so the AR leaves a residual
  for (int i = 0; i < 800; ++i, x = 3.7 * x * (1.0 - x)) text += std::to_string(10.0 + x + 0.002 * i) + "\n";
  write_file(dir.file("logistic.csv"), text);
  for (bool difference : {false, true}) {
    for (std::int64_t horizon : {1, 3}) {
      SCOPED_TRACE("difference " + std::to_string(difference) + ", horizon " + std::to_string(horizon));
      TaskOptions options;
      options.csv_path = dir.file("logistic.csv");
      options.csv_column = "value";
      options.seq_len = 16;
      options.horizon = horizon;
      options.difference = difference;
      const auto task = train::make_task("timeseries", options);
      const double ar = std::stod(report_value(*task, {}, "ar_nrmse"));
      train::EvalResult zero;
      zero.mean_loss = zero_output_loss(task->eval_data(), task->eval_warmup_batches(), horizon);
      EXPECT_NEAR(std::stod(report_value(*task, zero, "nrmse")), ar, 1e-5 * ar);
      // Unit rms on the training split (the training batches cover it but a few positions).
      EXPECT_NEAR(zero_output_loss(task->train_data(), 0, horizon) / static_cast<double>(horizon), 1.0, 0.05);
      const auto model = train::tasks::ArModel::parse(setting_of(*task, "ar_skip"));
      ASSERT_TRUE(model.has_value()) << setting_of(*task, "ar_skip");
      EXPECT_EQ(model->order(), std::stoi(report_value(*task, {}, "ar_order")));
      const double scale = std::stod(setting_of(*task, "ar_skip_scale"));
      EXPECT_GT(scale, 0.05);  // the logistic map is far from linear
      EXPECT_LT(scale, 1.0);
      EXPECT_NE(task->describe().find("misses (the AR skip"), std::string::npos) << task->describe();

      options.ar_skip = false;
      const auto plain = train::make_task("timeseries", options);
      EXPECT_EQ(setting_of(*plain, "ar_skip"), "");
      EXPECT_EQ(report_value(*plain, {}, "ar_nrmse"), report_value(*task, {}, "ar_nrmse"));
      zero.mean_loss = zero_output_loss(plain->eval_data(), plain->eval_warmup_batches(), horizon);
      EXPECT_GT(std::stod(report_value(*plain, zero, "nrmse")), 1.5 * ar);
    }
  }
}

// The AR model's setting reads back to the same doubles, and anything else is refused; lags
// before the series' start read as 0.
TEST(ArModel, TextReadsBackExactlyAndForecastsPadBeforeTheSeries) {
  train::tasks::ArModel model;
  model.coefficients = {0.1, 0.5, -0.25, 1.0 / 3.0};
  const auto back = train::tasks::ArModel::parse(model.text());
  ASSERT_TRUE(back.has_value()) << model.text();
  EXPECT_EQ(back->coefficients, model.coefficients);
  for (const std::string bad : {"", "1", "1 x", "1  2", "1 2 ", " 1 2", "nan 1", "1 inf", "1 2,3", "1 \t2", "1 0x10",
                                "+1 2", "1 1e999"}) {
    EXPECT_FALSE(train::tasks::ArModel::parse(bad).has_value()) << "'" << bad << "'";
  }
  std::string many = "1";
  for (int i = 0; i < 64; ++i) many += " 0.5";
  EXPECT_TRUE(train::tasks::ArModel::parse(many).has_value());  // order 64
  EXPECT_FALSE(train::tasks::ArModel::parse(many + " 0.5").has_value());
  // u_{-2}, u_{-1} read as 0: 0.1 + 0.5 * 1 = 0.6, then 0.1 + 0.5 * 0.6 - 0.25 * 1 = 0.15.
  const std::vector<double> u = {1.0, 2.0, 3.0};
  const std::vector<double> f = model.forecast(u, 0, 2);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_DOUBLE_EQ(f[0], 0.6);
  EXPECT_DOUBLE_EQ(f[1], 0.15);
}

}  // namespace
}  // namespace gpurnn::testing
