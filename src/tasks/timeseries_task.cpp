// Time-series prediction by truncated BPTT over one series: each step reads x_t and predicts
// the next `horizon` values x_{t+1} .. x_{t+h} (step_values, output_size h). Default series:
// 10,000 samples of Mackey-Glass (mackey_glass.h); or a CSV column (--csv/--column, empty cells
// per --fill). The first 80% is the training range, the last 20% is held out; the last 20% of the
// training range is the validation split (early stopping picks the weights on it) and the rest,
// the training split, trains. Values are normalised to zero mean and unit variance with the
// training range's mean and standard deviation.
//
// With `difference`, the model reads the first differences d_t = x_t - x_{t-1} (normalised with
// the mean m and sd s of the training range's differences) and predicts, for j = 1..h, the
// change x_{t+j} - x_t less j*m, in units of s; a prediction is integrated back as
// x_t + s*y_j + j*m.
//
// The validation split and the held-out part are evaluated warm-started: each lane first reads
// the kMaxWarmup values (at most) before its start, uncounted (Task::eval_warmup_batches), so
// its first predictions have the history a forecast would have.
//
// Report, on the counted targets (every target value x_{t+j} of every counted step), in the
// data's units: nrmse = rmse / sd, sd the standard deviation of those targets (for the model:
// sqrt(mean_loss / h) * scale / sd, scale the normalisation's sd); persistence_nrmse the same for
// x_{t+j} = x_t; ar_nrmse for a least-squares AR(p) with intercept fitted on the training split
// (on what the model reads: levels, or differences integrated back; multi-step forecasts iterate
// it), its order p (ar_order) the one of 1..32 with the lowest nrmse on the validation split.
//
// The AR skip (options.ar_skip, the default; LSTNet's autoregressive component, Lai et al. 2018):
// the prediction is the AR baseline's forecast f_{p,j} plus the model's output times
// residual_scale, so the model learns what the linear fit misses (its targets are
// (y_{p,j} - f_{p,j}) / residual_scale, residual_scale the rms of y - f over the training split,
// at least kMinResidualScale), and training starts at the first position with p lags of history.
// A model whose output is 0 therefore scores ar_nrmse exactly. The fitted coefficients and the
// scale are settings (task.ar_skip, task.ar_skip_scale): a forecast adds the same AR back.
// Without it (--no-ar-skip) the model predicts y alone.
#include <algorithm>
#include <cmath>
#include <string>

#include "gpurnn/error.h"
#include "train/checkpoint_metadata.h"
#include "tasks/csv_column.h"
#include "tasks/data_record.h"
#include "tasks/mackey_glass.h"
#include "tasks/series_source.h"
#include "tasks/task_support.h"
#include "tasks/tasks.h"

namespace gpurnn::train::tasks {
namespace {

constexpr const char* kWhere = "make_task(timeseries)";
constexpr std::int64_t kDefaultSteps = 24;  // seq_len: 24 (tuned on sunspots, El Nino; 50 was worse on both)
constexpr std::int64_t kDefaultRows = 16;
constexpr std::int64_t kMackeyGlassSamples = 10000;
constexpr double kTrainFraction = 0.8;       // the training range; the rest is held out
constexpr double kValidationFraction = 0.2;  // of the training range, at its end
constexpr std::int64_t kMaxWarmup = 2000;    // history positions an evaluation lane reads first
constexpr int kMaxArOrder = 32;
// The least residual_scale: a series the AR fits to within 1e-4 of its sd leaves the model
// residuals near float32's resolution, not worth scaling up further.
constexpr double kMinResidualScale = 1e-4;

// The data row (1-based) of `series[0, size)` farthest from zero, for an overflow message.
std::size_t largest_row(const std::vector<double>& series, std::size_t size) {
  std::size_t at = 0;
  for (std::size_t i = 1; i < size; ++i) {
    if (std::fabs(series[i]) > std::fabs(series[at])) at = i;
  }
  return at + 1;
}

// A split's counted positions [first, first + count) and the sd of their targets x_{p+j}.
struct Split {
  std::int64_t first = 0, count = 0;
  double target_sd = 1.0;
};

class TimeseriesTask : public BasicTask {
 public:
  explicit TimeseriesTask(const TaskOptions& options) : BasicTask("timeseries") {
    const std::int64_t steps = option_or(options.seq_len, kDefaultSteps, kWhere, "seq_len");
    const std::int64_t batch = option_or(options.batch, 0, kWhere, "batch");
    horizon_ = option_or(options.horizon, 1, kWhere, "horizon");
    difference_ = options.difference;
    ar_skip_ = options.ar_skip;
    const FillMode fill_mode = parse_fill_mode(options.csv_fill, "csv_fill");
    std::string origin;
    std::string fill_note;
    if (options.csv_path.empty()) {
      check_argument(options.csv_column.empty(), kWhere, "csv_column",
                     "is set ('" + options.csv_column + "') without a csv file");
      check_argument(fill_mode == FillMode::refuse, kWhere, "csv_fill", "applies to a csv file only");
      series_ = mackey_glass_series(kMackeyGlassSamples);
      origin = "Mackey-Glass series (tau=17, generated)";
      checkpoint_detail::ContentHash hash;  // of the values: a change of the generator shows
      hash.add(series_.data(), series_.size() * sizeof(double));
      record_ = {{"source", "built-in"},
                 {"generator", "mackey-glass tau=17 samples=" + std::to_string(kMackeyGlassSamples)},
                 {"hash", hash.text()}};
    } else {
      check_argument(!options.csv_column.empty(), kWhere, "csv_column",
                     "is required with a csv file ('" + options.csv_path + "')");
      std::string hash;
      std::uint64_t bytes = 0;
      CsvFill fill;
      fill.mode = fill_mode;
      series_ = read_csv_column(options.csv_path, options.csv_column, &hash, &bytes, &fill);
      record_ = file_record(options.csv_path, bytes, hash);
      record_.emplace_back("column", options.csv_column);
      origin = "column '" + options.csv_column + "' of '" + options.csv_path + "'";
      if (fill.filled > 0 || fill.dropped > 0) {
        fill_note = "; empty cells: " +
                    (fill.filled > 0 ? format_count(fill.filled) + " filled (" + to_string(fill_mode) + ")"
                                     : std::string()) +
                    (fill.filled > 0 && fill.dropped > 0 ? ", " : "") +
                    (fill.dropped > 0 ? format_count(fill.dropped) + " dropped" : std::string());
      } else if (fill_mode != FillMode::refuse) {
        fill_note = "; no empty cells";
      }
      const auto rows = static_cast<std::int64_t>(series_.size());
      check_argument(rows >= 10 * (horizon_ + 1), kWhere, "csv",
                     "'" + options.csv_path + "' has too few rows: " + std::to_string(rows) +
                         " data rows, a horizon of " + std::to_string(horizon_) + " needs at least " +
                         std::to_string(10 * (horizon_ + 1)) +
                         " (the last 20% is held out, and the 20% before it validates)");
    }
    const auto n = static_cast<std::int64_t>(series_.size());
    const auto train_end = static_cast<std::int64_t>(std::floor(kTrainFraction * static_cast<double>(n)));
    const std::int64_t fit_end =
        train_end - static_cast<std::int64_t>(std::floor(kValidationFraction * static_cast<double>(train_end)));
    const std::int64_t lo = difference_ ? 1 : 0;  // the first input position
    normalise(train_end, origin);
    // What a forecast needs to read new values as the model does and to write its outputs back
    // (with task.difference: the normalisation of the differences).
    record_.emplace_back("mean", exact_number(mean_));
    record_.emplace_back("std", exact_number(sd_));
    build_windows(origin);

    // Positions p whose targets x_{p+1} .. x_{p+h} lie in [a, b): [max(a - 1, lo), b - 1 - h].
    const auto positions = [&](std::int64_t a, std::int64_t b) {
      return std::make_pair(std::max(a - 1, lo), b - 1 - horizon_);
    };
    const auto [fit_first, fit_last] = positions(0, fit_end);
    const std::int64_t fit_positions = fit_last - fit_first + 1;
    const std::string training_data = "the training split of the " + origin;
    check_argument(fit_positions >= 1, kWhere, "csv",
                   training_data + " has no position with " + std::to_string(horizon_) + " targets");
    const std::int64_t lanes = stream_lanes(fit_positions, steps, batch, kDefaultRows, kWhere, training_data);
    const auto split_source = [&](std::int64_t a, std::int64_t b, Split& split) {
      const auto [first, last] = positions(a, b);
      const std::int64_t count = last - first + 1;
      check_argument(count >= 1, kWhere, "horizon",
                     std::to_string(horizon_) + " is longer than the validation split or the held-out part");
      const std::int64_t split_lanes = eval_stream_lanes(count, steps, lanes);
      const std::int64_t warmup = std::min(first - lo, kMaxWarmup);
      auto source = std::make_unique<SeriesSource>(windows_, first, split_lanes, count / split_lanes, steps, warmup);
      split.first = first;
      split.count = source->counted();
      split.target_sd = target_sd(split);
      return source;
    };
    validation_ = split_source(fit_end, train_end, validation_split_);
    auto eval = split_source(train_end, n, eval_split_);
    eval_warmup_batches_ = eval->warmup_batches();
    const std::int64_t eval_warmup = eval->warmup(), eval_lanes = eval->lanes();
    eval_ = std::move(eval);
    interface_ = {InputKind::features, 1, TargetKind::step_values, horizon_};

    persistence_nrmse_ = nrmse_of(eval_split_, [&](std::int64_t p, std::int64_t) { return series_[p]; });
    fit_ar_baseline(lo, fit_end);
    ar_skip_ = ar_skip_ && ar_order_ > 0;  // a series too short for any order has no skip
    // With the AR skip, training starts where the AR has its whole history (order values from lo;
    // before that its lags would read zeros), keeping at least one position per lane.
    const std::int64_t train_first =
        ar_skip_ ? std::min(std::max(fit_first, lo + ar_order_ - 1), fit_last - lanes + 1) : fit_first;
    const std::int64_t train_positions = fit_last - train_first + 1;
    train_ = std::make_unique<SeriesSource>(windows_, train_first, lanes, train_positions / lanes, steps, 0);
    if (ar_skip_) residualise(lo, train_first, fit_last, origin);

    settings_ = {{"seq_len", std::to_string(steps)}, {"batch", std::to_string(lanes)},
                 {"horizon", std::to_string(horizon_)}};
    if (difference_) settings_.emplace_back("difference", "1");
    if (fill_mode != FillMode::refuse) settings_.emplace_back("fill", to_string(fill_mode));
    if (ar_skip_) {
      settings_.emplace_back("ar_skip", ar_model_.text());
      settings_.emplace_back("ar_skip_scale", exact_number(residual_scale_));
    }
    description_ = origin + ": " + format_count(n) + " values" + fill_note +
                   (difference_ ? ", first differences modelled (predictions integrated back)" : "") +
                   ", normalised on the first 80%; training split " + format_count(fit_end) + ", validation " +
                   format_count(train_end - fit_end) + " (the end of the training range), held out " +
                   format_count(n - train_end) + " (evaluated warm-started on the " + format_count(eval_warmup) +
                   " values before each of its " + std::to_string(eval_lanes) + " lane(s)); horizon " +
                   std::to_string(horizon_) + ", seq_len " + std::to_string(steps) + ", batch " +
                   std::to_string(lanes) +
                   (ar_skip_ ? "; the model predicts what AR(" + std::to_string(ar_order_) +
                                   ") misses (the AR skip; its residuals' rms on the training split " +
                                   format_number(residual_scale_) + ")"
                             : options.ar_skip ? "; no AR skip (too short for an AR fit)" : "") +
                   range_note(train_end);
  }

  Report report(const EvalResult& eval) const override {
    return {{"nrmse", format_number(model_nrmse(eval, eval_split_))},
            {"persistence_nrmse", format_number(persistence_nrmse_)},
            {"ar_nrmse", format_number(ar_nrmse_)},
            {"ar_order", std::to_string(ar_order_)},
            {"horizon", std::to_string(horizon_)}};
  }
  std::int64_t eval_warmup_batches() const override { return eval_warmup_batches_; }
  const BatchSource* validation_data() const override { return validation_.get(); }
  std::int64_t validation_warmup_batches() const override { return validation_->warmup_batches(); }
  Report report_validation(const EvalResult& eval) const override {
    return {{"val_nrmse", format_number(model_nrmse(eval, validation_split_))},
            {"val_ar_nrmse", format_number(ar_validation_nrmse_)}};
  }

 private:
  // mean_/sd_ over the training range [0, train_end) of what the model reads (levels, or the
  // differences within it); errors name the row of a value that overflows them.
  void normalise(std::int64_t train_end, const std::string& origin) {
    double mean = 0.0, squares = 0.0;
    const std::int64_t first = difference_ ? 1 : 0;
    const auto read = [&](std::int64_t i) { return difference_ ? series_[i] - series_[i - 1] : series_[i]; };
    for (std::int64_t i = first; i < train_end; ++i) mean += read(i);
    mean /= static_cast<double>(train_end - first);
    for (std::int64_t i = first; i < train_end; ++i) squares += (read(i) - mean) * (read(i) - mean);
    const double sd = std::sqrt(squares / static_cast<double>(train_end - first));
    if (!std::isfinite(mean) || !std::isfinite(sd)) {
      const std::size_t row = largest_row(series_, static_cast<std::size_t>(train_end));
      throw Error(ErrorCode::invalid_argument,
                  std::string(kWhere) + ": " + origin + ": the training split's mean or standard deviation "
                  "overflows; its largest value is data row " + std::to_string(row) + " (" +
                      format_number(series_[row - 1]) + ")");
    }
    check_argument(sd > 0.0, kWhere, "csv",
                   origin + (difference_ ? "'s first differences are" : " is") + " constant over its training split");
    mean_ = mean;
    sd_ = sd;
  }

  // u_p and y_{p,j} (float32, as the model reads them), and u in double for the AR baseline.
  // Error naming the data row whose value does not fit in float32 once normalised.
  void build_windows(const std::string& origin) {
    auto windows = std::make_shared<SeriesWindows>();
    windows->horizon = horizon_;
    const auto n = static_cast<std::int64_t>(series_.size());
    const std::int64_t first = difference_ ? 1 : 0;
    u_.assign(static_cast<std::size_t>(n), 0.0);
    windows->inputs.assign(static_cast<std::size_t>(n), 0.0f);
    windows->targets.assign(static_cast<std::size_t>(n * horizon_), 0.0f);
    const auto checked = [&](double v, std::int64_t row) {
      const auto f = static_cast<float>(v);
      if (!std::isfinite(f)) {
        throw Error(ErrorCode::invalid_argument,
                    std::string(kWhere) + ": " + origin + ": data row " + std::to_string(row + 1) + " (" +
                        format_number(series_[row]) + ") is out of float32 range once normalised (mean " +
                        format_number(mean_) + ", sd " + format_number(sd_) + ")");
      }
      return f;
    };
    for (std::int64_t p = first; p < n; ++p) {
      u_[p] = ((difference_ ? series_[p] - series_[p - 1] : series_[p]) - mean_) / sd_;
      windows->inputs[p] = checked(u_[p], p);
    }
    for (std::int64_t p = first; p + horizon_ < n; ++p) {
      for (std::int64_t j = 1; j <= horizon_; ++j) windows->targets[p * horizon_ + j - 1] = checked(target(p, j), p + j);
    }
    windows_ = std::move(windows);
  }

  // y_{p,j} in double: u_{p+j}, or with differences the change x_{p+j} - x_p less j*mean, in sd.
  double target(std::int64_t p, std::int64_t j) const {
    return difference_ ? (series_[p + j] - series_[p] - static_cast<double>(j) * mean_) / sd_ : u_[p + j];
  }

  // An AR model's forecast of y_{p,1} .. y_{p,h} in the model's units (with differences, the
  // forecast differences added up: the change since x_p).
  std::vector<double> ar_path(const ArModel& model, std::int64_t p) const {
    std::vector<double> y = model.forecast(u_, p, horizon_);
    for (std::size_t i = 1; difference_ && i < y.size(); ++i) y[i] += y[i - 1];
    return y;
  }

  // The AR skip's targets: (y_{p,j} - f_{p,j}) / residual_scale_ at every position from `lo`,
  // residual_scale_ the rms of y - f over the training positions [fit_first, fit_last].
  void residualise(std::int64_t lo, std::int64_t fit_first, std::int64_t fit_last, const std::string& origin) {
    const auto n = static_cast<std::int64_t>(series_.size());
    std::vector<double> residuals(windows_->targets.size(), 0.0);
    double squares = 0.0;
    std::int64_t count = 0;
    for (std::int64_t p = lo; p + horizon_ < n; ++p) {
      const std::vector<double> f = ar_path(ar_model_, p);
      for (std::int64_t j = 1; j <= horizon_; ++j) {
        const double r = target(p, j) - f[static_cast<std::size_t>(j - 1)];
        residuals[static_cast<std::size_t>(p * horizon_ + j - 1)] = r;
        if (p >= fit_first && p <= fit_last) {
          squares += r * r;
          ++count;
        }
      }
    }
    residual_scale_ = std::max(kMinResidualScale, std::sqrt(squares / static_cast<double>(count)));
    for (std::int64_t p = lo; p + horizon_ < n; ++p) {
      for (std::int64_t j = 1; j <= horizon_; ++j) {
        const auto at = static_cast<std::size_t>(p * horizon_ + j - 1);
        const auto v = static_cast<float>(residuals[at] / residual_scale_);
        check_argument(std::isfinite(v), kWhere, "csv",
                       origin + ": the AR baseline's residual at data row " + std::to_string(p + j + 1) +
                           " is out of float32 range (use --no-ar-skip)");
        windows_->targets[at] = v;
      }
    }
  }

  // x_{p+j} in the data's units from the model's prediction y_{p,j}.
  double integrated(std::int64_t p, std::int64_t j, double y) const {
    return difference_ ? series_[p] + sd_ * y + static_cast<double>(j) * mean_ : mean_ + sd_ * y;
  }

  double target_sd(const Split& split) const {
    double sum = 0.0, squares = 0.0;
    std::int64_t count = 0;
    for (std::int64_t p = split.first; p < split.first + split.count; ++p) {
      for (std::int64_t j = 1; j <= horizon_; ++j, ++count) {
        sum += series_[p + j];
        squares += series_[p + j] * series_[p + j];
      }
    }
    const double mean = sum / static_cast<double>(count);
    return std::sqrt(std::max(0.0, squares / static_cast<double>(count) - mean * mean));
  }

  // rmse / sd over a split's counted targets of the prediction predict(p, j) of x_{p+j}.
  template <class Predict>
  double nrmse_of(const Split& split, Predict predict) const {
    double squares = 0.0;
    for (std::int64_t p = split.first; p < split.first + split.count; ++p) {
      for (std::int64_t j = 1; j <= horizon_; ++j) {
        const double e = predict(p, j) - series_[p + j];
        squares += e * e;
      }
    }
    return std::sqrt(squares / static_cast<double>(split.count * horizon_)) / split.target_sd;
  }

  double model_nrmse(const EvalResult& eval, const Split& split) const {
    return std::sqrt(eval.mean_loss / static_cast<double>(horizon_)) * residual_scale_ * sd_ / split.target_sd;
  }

  // The AR baseline on u: fitted on the training split, each order of 1..kMaxArOrder (at most an
  // eighth of the split) scored on the validation split, the best one on the held-out part. In
  // the model's units an AR forecast of u_{p+1..p+h} is, with differences, the change since x_p
  // (the sum of the forecast differences, normalised as the targets are).
  void fit_ar_baseline(std::int64_t lo, std::int64_t fit_end) {
    const auto ar_nrmse = [&](const ArModel& model, const Split& split) {
      std::int64_t cached = -1;
      std::vector<double> y;
      return nrmse_of(split, [&](std::int64_t p, std::int64_t j) {
        if (p != cached) {
          y = ar_path(model, p);
          cached = p;
        }
        return integrated(p, j, y[static_cast<std::size_t>(j - 1)]);
      });
    };
    const std::int64_t fit_values = fit_end - lo;
    const auto max_order = static_cast<int>(std::clamp<std::int64_t>(fit_values / 8, 1, kMaxArOrder));
    ArModel best;
    for (int order = 1; order <= max_order && order + 1 < fit_values && order <= validation_split_.first - lo + 1;
         ++order) {
      const ArModel model = fit_ar(u_, lo, fit_end, order);
      const double score = ar_nrmse(model, validation_split_);
      if (best.coefficients.empty() || score < ar_validation_nrmse_) {
        best = model;
        ar_validation_nrmse_ = score;
      }
    }
    if (best.coefficients.empty()) return;  // too short for any order (reported as order 0)
    ar_order_ = best.order();
    ar_nrmse_ = ar_nrmse(best, eval_split_);
    ar_model_ = std::move(best);
  }

  // "; note: the held-out values ... leave the training range's ..." when they do, else "".
  std::string range_note(std::int64_t train_end) const {
    const auto [low, high] = std::minmax_element(series_.begin(), series_.begin() + train_end);
    const auto [eval_low, eval_high] = std::minmax_element(series_.begin() + train_end, series_.end());
    if (*eval_low >= *low && *eval_high <= *high) return "";
    return "; note: the held-out values (" + format_number(*eval_low) + " to " + format_number(*eval_high) +
           ") leave the training range (" + format_number(*low) + " to " + format_number(*high) + ")" +
           (difference_ ? ", their changes are what the model reads"
                        : ": a model of the levels has not seen them; --difference models the changes");
  }

  std::vector<double> series_;
  std::vector<double> u_;  // what the model reads, normalised, in double (the AR baseline's data)
  std::shared_ptr<SeriesWindows> windows_;  // its targets are rewritten by residualise, before any batch
  std::unique_ptr<SeriesSource> validation_;
  std::int64_t eval_warmup_batches_ = 0;
  Split validation_split_, eval_split_;
  bool difference_ = false;
  std::int64_t horizon_ = 1;
  double mean_ = 0.0, sd_ = 1.0;
  double persistence_nrmse_ = 0.0;
  double ar_nrmse_ = 0.0, ar_validation_nrmse_ = 0.0;
  int ar_order_ = 0;
  ArModel ar_model_;             // the AR baseline (order ar_order_)
  bool ar_skip_ = false;         // the model predicts the AR baseline's residual
  double residual_scale_ = 1.0;  // ... in units of this (1 without the skip)
};

}  // namespace

std::unique_ptr<Task> make_timeseries_task(const TaskOptions& options) {
  return std::make_unique<TimeseriesTask>(options);
}

TaskEntry timeseries_task_entry() { return {"timeseries", {"lstm", 64, 1000, 30, 1e-2, 1.0, "general", 1, "cosine", 1}, make_timeseries_task}; }

}  // namespace gpurnn::train::tasks
