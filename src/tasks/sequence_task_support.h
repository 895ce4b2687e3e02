#pragma once
// What the output-sequence tasks (translate, sort, convex-hull, tsp) share: the SequenceTask
// plumbing over a fresh training source and a fixed evaluation list, the teacher-forced report,
// and the parsing of numbers written as text for `gpurnn run`.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gpurnn/train/task.h"
#include "tasks/geometry.h"
#include "tasks/pair_source.h"
#include "tasks/task_support.h"

namespace gpurnn::train::tasks {

class BasicSequenceTask : public TaskWithSources<SequenceTask> {
 public:
  std::int64_t eval_examples() const override { return static_cast<std::int64_t>(eval_set_.size()); }
  // Teacher-forced: loss per output and the fraction of outputs predicted from the reference prefix.
  Report report(const EvalResult& eval) const override;

 protected:
  explicit BasicSequenceTask(std::string name) : TaskWithSources(std::move(name)) {}
  // Sets the sources: fresh training examples from `draw` (batch `rows`) and `eval_count` held-out
  // examples drawn from the evaluation stream.
  void set_sources(const TaskOptions& options, std::int64_t feature_size, std::int64_t rows, std::int64_t eval_count,
                   const PairSource::Draw& draw);
  // Error(invalid_argument) unless `outputs` has one output per held-out example.
  void check_outputs(const std::vector<std::vector<std::int32_t>>& outputs) const;

  std::vector<PairExample> eval_set_;  // the held-out examples, in order
};

// Whitespace- or comma-separated numbers of `text`, each finite within float32's range;
// Error(invalid_argument) naming the task and the offending word (nan, inf, 1e39, 1e999, x).
std::vector<double> parse_numbers(const std::string& text, const std::string& task);
// Points from "x y x y ..." (an even count of at least `minimum` points).
std::vector<geometry::Point> parse_points(const std::string& text, const std::string& task, std::int64_t minimum);

// `n` points uniform in the unit square, rounded to f32 (the precision the model reads them in,
// so labels are computed on exactly what it sees).
std::vector<geometry::Point> random_unit_square_points(CounterRng& rng, std::int64_t n);

// The points of an example's features: (features[i], features[i + 1]) for i = first,
// first + stride, ... (the x, y of each position from `first` on).
std::vector<geometry::Point> feature_points(const std::vector<float>& features, std::size_t first,
                                            std::size_t stride);

}  // namespace gpurnn::train::tasks
