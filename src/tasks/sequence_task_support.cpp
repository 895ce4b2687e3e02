#include "tasks/sequence_task_support.h"

#include <cmath>
#include <limits>
#include <sstream>

#include "core/quoted.h"

namespace gpurnn::train::tasks {

Report BasicSequenceTask::report(const EvalResult& eval) const {
  Report report;
  report.emplace_back("tf_loss", format_number(eval.mean_loss));
  if (eval.accuracy) report.emplace_back("tf_accuracy", format_number(*eval.accuracy));
  return report;
}

void BasicSequenceTask::set_sources(const TaskOptions& options, std::int64_t feature_size, std::int64_t rows,
                                    std::int64_t eval_count, const PairSource::Draw& draw) {
  constexpr std::int64_t kTrainBatchesPerEpoch = 1000;  // notional: every batch is fresh
  train_ = std::make_unique<PairSource>(interface_.input, feature_size, rows, kTrainBatchesPerEpoch, options.seed,
                                        kTrainStream, draw);
  eval_set_.clear();
  for (std::int64_t i = 0; i < eval_count; ++i) {
    CounterRng rng{options.seed, kEvalStream, static_cast<std::uint64_t>(i)};
    eval_set_.push_back(draw(rng));
  }
  eval_ = std::make_unique<PairSource>(interface_.input, feature_size, rows, eval_set_);
}

void BasicSequenceTask::check_outputs(const std::vector<std::vector<std::int32_t>>& outputs) const {
  check_argument(outputs.size() == eval_set_.size(), (name_ + " report_outputs").c_str(), "outputs",
                 "has " + std::to_string(outputs.size()) + " outputs, expected one per held-out example (" +
                     std::to_string(eval_set_.size()) + ")");
}

std::vector<double> parse_numbers(const std::string& text, const std::string& task) {
  std::string spaced = text;
  for (char& ch : spaced) {
    if (ch == ',') ch = ' ';
  }
  std::istringstream in(spaced);
  std::vector<double> values;
  std::string word;
  while (in >> word) {
    bool out_of_range = false;
    try {
      std::size_t used = 0;
      const double v = std::stod(word, &used);
      // The model reads f32: a value that is not finite there (nan, inf, 1e39) would decode to
      // an answer of NaN scores, so it is refused as the value 1e999 always was.
      out_of_range = used == word.size() && !(std::abs(v) <= std::numeric_limits<float>::max());
      if (used == word.size() && !out_of_range) {
        values.push_back(v);
        continue;
      }
    } catch (const std::out_of_range&) {
      out_of_range = true;
    } catch (const std::exception&) {
    }
    throw Error(ErrorCode::invalid_argument,
                task + ": " + gpurnn::detail::quoted(word) + " in the input is " +
                    (out_of_range ? "not a finite number within float32's range (magnitude at most 3.4e38)"
                                  : "not a number"));
  }
  return values;
}

std::vector<geometry::Point> parse_points(const std::string& text, const std::string& task, std::int64_t minimum) {
  const std::vector<double> v = parse_numbers(text, task);
  check_argument(v.size() % 2 == 0 && static_cast<std::int64_t>(v.size()) >= 2 * minimum, task.c_str(), "input",
                 "has " + std::to_string(v.size()) + " numbers, expected x y pairs of at least " +
                     std::to_string(minimum) + " points");
  std::vector<geometry::Point> points;
  for (std::size_t i = 0; i < v.size(); i += 2) points.push_back({v[i], v[i + 1]});
  return points;
}

std::vector<geometry::Point> random_unit_square_points(CounterRng& rng, std::int64_t n) {
  std::vector<geometry::Point> points;
  for (std::int64_t i = 0; i < n; ++i) {
    const double x = static_cast<float>(rng.uniform());  // x drawn before y
    points.push_back({x, static_cast<float>(rng.uniform())});
  }
  return points;
}

std::vector<geometry::Point> feature_points(const std::vector<float>& features, std::size_t first,
                                            std::size_t stride) {
  std::vector<geometry::Point> points;
  for (std::size_t i = first; i + 1 < features.size(); i += stride) points.push_back({features[i], features[i + 1]});
  return points;
}

}  // namespace gpurnn::train::tasks
