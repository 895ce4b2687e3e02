// Time-series prediction by truncated BPTT over one series: each step reads x_t and predicts
// the next `horizon` values x_{t+1} .. x_{t+h} (step_values, output_size h). Default series:
// 10,000 samples of Mackey-Glass (mackey_glass.h); or a CSV column (--csv/--column). The first
// 80% trains, the last 20% is held out; values are normalised to zero mean and unit variance
// with the training split's mean and standard deviation.
//
// Report, on the evaluation batches' counted targets (every target value of every counted step,
// in normalised units): nrmse = sqrt(mean_loss / h) / sd, where mean_loss is the squared error
// summed over the h values of a step and averaged over steps (ops.h mean_squared_error) and sd
// is the standard deviation of those target values; persistence_nrmse is the same for the
// prediction x_{t+j} = x_t for every j.
#include <cmath>
#include <string>

#include "gpurnn/error.h"
#include "tasks/csv_column.h"
#include "tasks/mackey_glass.h"
#include "tasks/stream_source.h"
#include "tasks/task_support.h"
#include "tasks/tasks.h"

namespace gpurnn::train::tasks {
namespace {

constexpr const char* kWhere = "make_task(timeseries)";
constexpr std::int64_t kDefaultSteps = 50;
constexpr std::int64_t kDefaultRows = 16;
constexpr std::int64_t kMackeyGlassSamples = 10000;
constexpr double kTrainFraction = 0.8;

// The series' values in [begin, end) in units of the training split (float32, as the model reads
// them). Error naming the data row of `origin` whose value does not fit (a value of 1e300 gave
// nrmse=inf and rc 0).
std::shared_ptr<const std::vector<float>> normalised(const std::vector<double>& series,
                                                     std::size_t begin, std::size_t end,
                                                     double mean, double sd, const std::string& origin) {
  auto values = std::make_shared<std::vector<float>>();
  for (std::size_t i = begin; i < end; ++i) {
    const float v = static_cast<float>((series[i] - mean) / sd);
    if (!std::isfinite(v)) {
      throw Error(ErrorCode::invalid_argument,
                  std::string(kWhere) + ": " + origin + ": data row " + std::to_string(i + 1) + " (" +
                      format_number(series[i]) + ") is out of float32 range once normalised (mean " +
                      format_number(mean) + ", sd " + format_number(sd) + ")");
    }
    values->push_back(v);
  }
  return values;
}

// The data row of `series[0, size)` farthest from zero (1-based), for an overflow message.
std::size_t largest_row(const std::vector<double>& series, std::size_t size) {
  std::size_t at = 0;
  for (std::size_t i = 1; i < size; ++i) {
    if (std::fabs(series[i]) > std::fabs(series[at])) at = i;
  }
  return at + 1;
}

class TimeseriesTask : public BasicTask {
 public:
  explicit TimeseriesTask(const TaskOptions& options) : BasicTask("timeseries") {
    const std::int64_t steps = option_or(options.seq_len, kDefaultSteps, kWhere, "seq_len");
    const std::int64_t batch = option_or(options.batch, 0, kWhere, "batch");
    horizon_ = option_or(options.horizon, 1, kWhere, "horizon");
    std::vector<double> series;
    std::string origin;
    if (options.csv_path.empty()) {
      check_argument(options.csv_column.empty(), kWhere, "csv_column",
                     "is set ('" + options.csv_column + "') without a csv file");
      series = mackey_glass_series(kMackeyGlassSamples);
      origin = "Mackey-Glass series (tau=17, generated)";
    } else {
      check_argument(!options.csv_column.empty(), kWhere, "csv_column",
                     "is required with a csv file ('" + options.csv_path + "')");
      series = read_csv_column(options.csv_path, options.csv_column);
      origin = "column '" + options.csv_column + "' of '" + options.csv_path + "'";
      const auto rows = static_cast<std::int64_t>(series.size());
      check_argument(rows >= 5 * (horizon_ + 1), kWhere, "csv",
                     "'" + options.csv_path + "' has too few rows: " + std::to_string(rows) +
                         " data rows, a horizon of " + std::to_string(horizon_) + " needs at least " +
                         std::to_string(5 * (horizon_ + 1)) + " (the last 20% is held out)");
    }
    const auto train_size = static_cast<std::size_t>(std::floor(kTrainFraction * static_cast<double>(series.size())));
    double mean = 0.0, squares = 0.0;
    for (std::size_t i = 0; i < train_size; ++i) mean += series[i];
    mean /= static_cast<double>(train_size);
    for (std::size_t i = 0; i < train_size; ++i) squares += (series[i] - mean) * (series[i] - mean);
    const double sd = std::sqrt(squares / static_cast<double>(train_size));
    if (!std::isfinite(mean) || !std::isfinite(sd)) {
      const std::size_t row = largest_row(series, train_size);
      throw Error(ErrorCode::invalid_argument,
                  std::string(kWhere) + ": " + origin + ": the training split's mean or standard deviation "
                  "overflows; its largest value is data row " + std::to_string(row) + " (" +
                      format_number(series[row - 1]) + ")");
    }
    check_argument(sd > 0.0, kWhere, "csv", origin + " is constant over its training split");

    const auto train_values = normalised(series, 0, train_size, mean, sd, origin);
    const auto eval_values = normalised(series, train_size, series.size(), mean, sd, origin);
    const std::vector<std::int64_t> train_ends{static_cast<std::int64_t>(train_values->size())};
    const std::vector<std::int64_t> eval_ends{static_cast<std::int64_t>(eval_values->size())};
    const std::int64_t train_positions = StreamPlan::input_positions(train_ends, horizon_);
    const std::int64_t lanes = stream_lanes(train_positions, steps, batch, kDefaultRows, kWhere,
                                            "the training split of the " + origin);
    train_ = StreamSource::over_values(train_values, train_ends, lanes, steps, horizon_);
    const std::int64_t eval_lanes =
        eval_stream_lanes(StreamPlan::input_positions(eval_ends, horizon_), steps, lanes);
    eval_ = StreamSource::over_values(eval_values, eval_ends, eval_lanes, steps, horizon_);
    interface_ = {InputKind::features, 1, TargetKind::step_values, horizon_};
    measure_baseline();
    settings_ = {{"seq_len", std::to_string(steps)}, {"batch", std::to_string(lanes)}};
    description_ = origin + ": " + format_count(static_cast<std::int64_t>(series.size())) +
                   " values, normalised on the first 80%, last 20% held out; horizon " +
                   std::to_string(horizon_) + ", seq_len " + std::to_string(steps) + ", batch " +
                   std::to_string(lanes);
  }

  Report report(const EvalResult& eval) const override {
    return {{"nrmse", format_number(std::sqrt(eval.mean_loss / static_cast<double>(horizon_)) / target_sd_)},
            {"persistence_nrmse", format_number(persistence_nrmse_)},
            {"horizon", std::to_string(horizon_)}};
  }

 private:
  // target_sd_ and persistence_nrmse_ over the evaluation batches' counted targets.
  void measure_baseline() {
    double sum = 0.0, squares = 0.0, persistence = 0.0;
    std::int64_t count = 0;
    for_each_batch(*eval_, [&](const Batch& batch) {
      const float* inputs = batch.inputs.data_as<float>();
      const float* targets = batch.targets.data_as<float>();
      for (std::int64_t row = 0; row < batch.rows(); ++row) {
        for (std::int64_t t = 0; t < batch.lengths.data_as<std::int32_t>()[row]; ++t) {
          const std::int64_t at = t * batch.rows() + row;
          for (std::int64_t j = 0; j < horizon_; ++j, ++count) {
            const double target = targets[at * horizon_ + j];
            sum += target;
            squares += target * target;
            persistence += (target - inputs[at]) * (target - inputs[at]);
          }
        }
      }
    });
    const double mean = sum / static_cast<double>(count);
    target_sd_ = std::sqrt(squares / static_cast<double>(count) - mean * mean);
    persistence_nrmse_ = std::sqrt(persistence / static_cast<double>(count)) / target_sd_;
  }

  std::int64_t horizon_ = 1;
  double target_sd_ = 1.0;
  double persistence_nrmse_ = 0.0;
};

}  // namespace

std::unique_ptr<Task> make_timeseries_task(const TaskOptions& options) {
  return std::make_unique<TimeseriesTask>(options);
}

TaskEntry timeseries_task_entry() { return {"timeseries", {"lstm", 64, 1000, 30, 1e-2, 1.0, "general", 1, "cosine", 1}, make_timeseries_task}; }

}  // namespace gpurnn::train::tasks
