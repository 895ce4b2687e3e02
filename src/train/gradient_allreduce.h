#pragma once
// One gradient all-reduce per training step (internal header). Every parameter's gradient is
// packed into one flat buffer on the model's device and reduced with one collective; the rank's
// loss sum and counted targets are reduced in f64 on the host by a second, two-element one (in
// the gradients' f32 a count is exact only to 2^24, and the logged loss would drift from a
// one-rank run's).
//
// Each rank's gradients are of the MEAN loss over its own counted targets, so they are weighted
// by that count before the sum and divided by the global count after it: the result is the
// gradient of the global batch's mean loss, exactly what one rank with the whole batch computes
// (up to the order of the floating-point sums), however unevenly the targets fall on the ranks.

#include <vector>

#include "gpurnn/train/communicator.h"
#include "gpurnn/train/layers.h"
#include "gpurnn/train/model.h"

namespace gpurnn::train {

class GradientAllreduce {
 public:
  GradientAllreduce(Communicator& comm, TrainOps& ops, std::vector<Parameter> params);

  // Replaces every parameter's gradient by the count-weighted mean over the ranks; returns the
  // global loss sum and count (correct is left 0).
  BatchSums reduce(const BatchSums& local, void* stream);

 private:
  Communicator& comm_;
  TrainOps& ops_;
  std::vector<Parameter> params_;
  std::int64_t grad_elements_ = 0;
  Tensor flat_;  // [grad_elements_] on the parameters' device
};

}  // namespace gpurnn::train
