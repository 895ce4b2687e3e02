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
#include "train/data/pair_source.h"
#include "train/data/task_support.h"

namespace gpurnn::train::data {

class BasicSequenceTask : public SequenceTask {
 public:
  std::string name() const override { return name_; }
  std::string describe() const override { return description_; }
  ModelInterface interface() const override { return interface_; }
  const BatchSource& train_data() const override { return *train_; }
  const BatchSource& eval_data() const override { return *eval_; }
  std::int64_t eval_examples() const override { return static_cast<std::int64_t>(eval_set_.size()); }
  // Teacher-forced: loss per output and the fraction of outputs predicted from the reference prefix.
  Report report(const EvalResult& eval) const override;

 protected:
  explicit BasicSequenceTask(std::string name) : name_(std::move(name)) {}
  // Sets the sources: fresh training examples from `draw` (batch `rows`) and `eval_count` held-out
  // examples drawn from the evaluation stream.
  void set_sources(const TaskOptions& options, std::int64_t feature_size, std::int64_t rows, std::int64_t eval_count,
                   const PairSource::Draw& draw);
  // The held-out output of `outputs` for example i, checked: Error(invalid_argument) when the
  // counts differ.
  void check_outputs(const std::vector<std::vector<std::int32_t>>& outputs) const;

  std::string name_;
  std::string description_;
  ModelInterface interface_;
  std::unique_ptr<BatchSource> train_, eval_;
  std::vector<PairExample> eval_set_;
};

// Whitespace- or comma-separated numbers of `text`; Error(invalid_argument) naming the task and
// the offending word.
std::vector<double> parse_numbers(const std::string& text, const std::string& task);
// Points from "x y x y ..." (an even count of at least `minimum` points).
std::vector<std::pair<double, double>> parse_points(const std::string& text, const std::string& task,
                                                    std::int64_t minimum);

}  // namespace gpurnn::train::data
