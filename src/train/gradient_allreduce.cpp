#include "train/gradient_allreduce.h"

#include "gpurnn/error.h"

namespace gpurnn::train {
namespace {

TensorView slice(Tensor& flat, std::int64_t offset, std::int64_t count) {
  return TensorView(static_cast<char*>(flat.data()) + static_cast<std::size_t>(offset) * dtype_size(flat.dtype()),
                    Shape{count}, flat.dtype(), flat.device());
}

}  // namespace

GradientAllreduce::GradientAllreduce(Communicator& comm, TrainOps& ops, std::vector<Parameter> params)
    : comm_(comm), ops_(ops), params_(std::move(params)) {
  check_argument(!params_.empty(), "GradientAllreduce", "params", "is empty");
  for (const Parameter& p : params_) {
    check_argument(p.grad.dtype() == params_.front().grad.dtype() && p.grad.device() == params_.front().grad.device(),
                   "GradientAllreduce", "params", "must share one dtype and device ('" + p.name + "' differs)");
    grad_elements_ += p.grad.numel();
  }
  flat_ = Tensor::empty(Shape{grad_elements_}, params_.front().grad.dtype(), params_.front().grad.device());
}

// Every copy, scale and the all-reduce are ordered on the model's stream (ops_ and `stream` are
// the model's): copies on the legacy stream once raced a non-blocking model stream.
BatchSums GradientAllreduce::reduce(const BatchSums& local, void* stream) {
  // The sums first, in f64 on the host: the global count is known before the gradients' scale.
  Tensor sums = Tensor::empty(Shape{2}, DType::f64);
  sums.data_as<double>()[0] = local.loss;
  sums.data_as<double>()[1] = static_cast<double>(local.count);
  comm_.allreduce_sum(sums.view());
  BatchSums global;
  global.loss = sums.data_as<double>()[0];
  global.count = static_cast<std::int64_t>(sums.data_as<double>()[1] + 0.5);

  std::int64_t offset = 0;
  for (const Parameter& p : params_) {
    ops_.copy(p.grad.view(), slice(flat_, offset, p.grad.numel()));
    offset += p.grad.numel();
  }
  ops_.scale(flat_.view(), static_cast<double>(local.count));
  comm_.allreduce_sum(flat_.view(), stream);
  // No counted target anywhere: every rank's gradients were zero, and stay so.
  ops_.scale(flat_.view(), global.count > 0 ? 1.0 / static_cast<double>(global.count) : 0.0);
  offset = 0;
  for (Parameter& p : params_) {
    ops_.copy(slice(flat_, offset, p.grad.numel()), p.grad.view());
    offset += p.grad.numel();
  }
  return global;
}

}  // namespace gpurnn::train
