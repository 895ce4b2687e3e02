// `gpurnn forecast --checkpoint M --csv FILE`: a timeseries checkpoint of `gpurnn train` used on a
// CSV column. The history is normalised with the mean and standard deviation the checkpoint
// records (data.mean, data.std: the training split's), run through the model from a zero state
// (in chunks, carrying the state, so memory does not grow with the history), and the model then
// predicts --steps values, each fed back as the next input: a model trained with --horizon H
// predicts H values at every step, and the rollout feeds back the first. The values are written
// de-normalised, as CSV: a header "step,<column>", then one line per step ahead (1, 2, ...).
// A model trained with --difference (task.difference) reads the history's first differences and
// predicts changes, which are added up from the last value; empty cells are read with the
// checkpoint's --fill (task.fill), refused when it had none. A model trained with the AR skip
// (task.ar_skip: the AR coefficients, task.ar_skip_scale) predicts the AR forecast's residual: each
// prediction is the recorded AR's forecast from the values read so far plus the scale times the
// model's output, as in training.

#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>

#include "cli/commands.h"
#include "cli/output_paths.h"
#include "cli/saved_model.h"
#include "core/quoted.h"
#include "gpurnn/error.h"
#include "io/atomic_file.h"
#include "tasks/csv_column.h"
#include "tasks/series_source.h"
#include "train/checkpoint_metadata.h"

namespace gpurnn::cli {
namespace {

constexpr const char* kCommand = "gpurnn forecast";
constexpr std::int64_t kMaxSteps = 10000000;
constexpr std::size_t kChunk = 4096;  // history steps per backend call

// A CSV field: as it is when it needs no quotes, else quoted with "" for a quote.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string field = "\"";
  for (char c : text) field += c == '"' ? std::string("\"\"") : std::string(1, c);
  return field + "\"";
}

std::string number_text(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

int run_forecast(const ForecastOptions& o) {
  check_argument(o.steps >= 1 && o.steps <= kMaxSteps, kCommand, "--steps",
                 "must be in [1, " + std::to_string(kMaxSteps) + "], got " + std::to_string(o.steps));
  check_argument(!o.csv.empty(), kCommand, "--csv", "is required: a CSV file whose column holds the history");
  check_output_paths({{"--output", o.output}}, {{"--csv", o.csv}, {"--checkpoint", o.checkpoint}});
  SavedModel saved = load_saved_model(o.checkpoint, "timeseries", kCommand, "gpurnn generate: charlm", o.device,
                                      o.threads);
  const auto number = [&](const char* key, const char* what) {
    return train::checkpoint_detail::parse_number(saved.path, key, required_metadata(saved, key, what));
  };
  const double mean = number("data.mean", "normalisation (the training split's mean)");
  const double sd = number("data.std", "normalisation (the training split's standard deviation)");
  if (!(sd > 0)) {
    throw Error(ErrorCode::io_error, "checkpoint '" + saved.path + "': metadata 'data.std' is " +
                                         number_text(sd) + ", expected a standard deviation above 0");
  }
  std::string column = o.column;
  if (column.empty()) {
    const auto recorded = saved.info.metadata.find("data.column");
    if (recorded == saved.info.metadata.end()) {
      throw Error(ErrorCode::invalid_argument,
                  "--column is required: the checkpoint " + saved.path +
                      " records no CSV column (it was trained on the built-in series), so name the column of " +
                      o.csv + " that holds the history");
    }
    column = recorded->second;
  }
  const auto setting = [&](const char* key) {
    const auto it = saved.info.metadata.find(key);
    return it == saved.info.metadata.end() ? std::string() : it->second;
  };
  const bool difference = setting("task.difference") == "1";
  // The AR skip: the recorded AR model and the scale of the model's output.
  std::optional<train::tasks::ArModel> ar;
  double residual_scale = 1.0;
  if (const std::string text = setting("task.ar_skip"); !text.empty()) {
    ar = train::tasks::ArModel::parse(text);
    if (!ar) {
      throw Error(ErrorCode::io_error, "checkpoint '" + saved.path + "': metadata 'task.ar_skip' is " +
                                           detail::quoted(text, 200) +
                                           ", expected the AR coefficients (2 to 65 finite numbers, spaces between)");
    }
    residual_scale = number("task.ar_skip_scale", "AR skip's residual scale");
    if (!(residual_scale > 0)) {
      throw Error(ErrorCode::io_error, "checkpoint '" + saved.path + "': metadata 'task.ar_skip_scale' is " +
                                           number_text(residual_scale) + ", expected a scale above 0");
    }
  }
  train::tasks::CsvFill fill;
  fill.mode = train::tasks::parse_fill_mode(setting("task.fill"), "task.fill");
  const std::vector<double> history = train::tasks::read_csv_column(o.csv, column, nullptr, nullptr, &fill);
  check_argument(history.size() >= (difference ? 2u : 1u), kCommand, "--csv",
                 o.csv + " has " + std::to_string(history.size()) + " values in column " + detail::quoted(column) +
                     (difference ? "; a model of the differences needs at least 2" : ""));

  // The history, normalised as the model was trained (u, what it reads), in chunks that carry the
  // state.
  train::RecurrentState state;
  std::vector<double> prediction;
  std::vector<double> u;
  const std::size_t first = difference ? 1 : 0;
  if (difference) u.push_back(0.0);  // u_0 has no difference: 0, as in training
  for (std::size_t begin = first; begin < history.size(); begin += kChunk) {
    const std::size_t end = std::min(history.size(), begin + kChunk);
    Tensor x = Tensor::empty({static_cast<std::int64_t>(end - begin), 1}, DType::f32);
    for (std::size_t i = begin; i < end; ++i) {
      const double read = difference ? history[i] - history[i - 1] : history[i];
      const double normalised = (read - mean) / sd;
      const auto v = static_cast<float>(normalised);
      if (!std::isfinite(v)) {
        throw Error(ErrorCode::invalid_argument, "--csv " + o.csv + ": data row " + std::to_string(i + 1) + " (" +
                                                     number_text(history[i]) +
                                                     ") is out of float32 range once normalised (mean " +
                                                     number_text(mean) + ", sd " + number_text(sd) + ")");
      }
      x.data_as<float>()[i - begin] = v;
      u.push_back(normalised);
    }
    prediction = saved.model->continue_sequence(x, state);
  }
  std::string text = "step," + csv_field(column) + "\n";
  double level = history.back();
  for (std::int64_t step = 1; step <= o.steps; ++step) {
    // u's next value (with differences, the next change less the mean change, in sd).
    const double next = (ar ? ar->forecast(u, static_cast<std::int64_t>(u.size()) - 1, 1)[0] : 0.0) +
                        residual_scale * prediction.at(0);
    u.push_back(next);
    // A change (in units of sd, less the mean change) added to the last value, or a value.
    level = difference ? level + next * sd + mean : next * sd + mean;
    text += std::to_string(step) + "," + number_text(level) + "\n";
    if (step == o.steps) break;
    Tensor x = Tensor::empty({1, 1}, DType::f32);
    x.data_as<float>()[0] = static_cast<float>(next);
    prediction = saved.model->continue_sequence(x, state);
  }
  if (o.output.empty()) {
    std::cout << text << std::flush;
  } else {
    io::detail::write_file_atomically(o.output, {{text.data(), text.size()}});
  }
  std::cerr << kCommand << ": timeseries checkpoint " << saved.path << " (step " << saved.info.step << "), "
            << history.size() << " values of column " << detail::quoted(column) << " then " << o.steps
            << " steps ahead on " << saved.device << (o.output.empty() ? std::string() : ", written to " + o.output)
            << "\n";
  return 0;
}

}  // namespace gpurnn::cli
