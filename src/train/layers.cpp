#include "gpurnn/train/layers.h"

#include <cmath>
#include <functional>
#include <limits>

#include "train/host_random.h"

namespace gpurnn::train {
namespace {

void check_floating(const char* call, DType dtype) {
  check_argument(dtype == DType::f32 || dtype == DType::f64, call, "dtype",
                 [&] { return std::string("is ") + to_string(dtype) + ", expected f32 or f64"; });
}

void check_positive(const char* call, const char* arg, std::int64_t value) {
  check_argument(value > 0, call, arg, [&] { return "is " + std::to_string(value) + ", expected a value >= 1"; });
}

// A tensor of `shape` whose elements are draw() in row-major order, computed on the host in
// double, then converted to `dtype` and moved to `device`.
Tensor drawn(Shape shape, DType dtype, Device device, const std::function<double()>& draw) {
  Tensor host = Tensor::empty(shape, DType::f64);
  double* p = host.data_as<double>();
  for (std::int64_t i = 0; i < host.numel(); ++i) p[i] = draw();
  Tensor typed = dtype == DType::f64 ? host : host.to(dtype);
  return device.is_cpu() ? typed : typed.to(device);
}

void check_defined(const char* call, const Tensor& t, const char* layer) {
  check_argument(t.defined(), call, "this", [&] {
    return std::string("is a default-constructed ") + layer + ", expected one built with its sizes";
  });
}

}  // namespace

Tensor uniform_parameter(Shape shape, double bound, DType dtype, Device device, std::uint64_t seed) {
  check_floating("uniform_parameter", dtype);
  HostRandom random(seed);
  return drawn(std::move(shape), dtype, device, [&] { return random.uniform(-bound, bound); });
}

// ---- Linear ----------------------------------------------------------------------------------

Linear::Linear(std::int64_t in_features, std::int64_t out_features, bool bias, DType dtype,
               Device device, std::uint64_t seed) {
  check_positive("Linear", "in_features", in_features);
  check_positive("Linear", "out_features", out_features);
  check_floating("Linear", dtype);
  // PyTorch's nn.Linear: kaiming_uniform(a = sqrt(5)) for W and U(±1/sqrt(in)) for b, which
  // both come to U(±1/sqrt(in)). W is drawn first, then b, from one generator.
  const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
  HostRandom random(seed);
  const auto draw = [&] { return random.uniform(-bound, bound); };
  weight_ = drawn({out_features, in_features}, dtype, device, draw);
  weight_grad_ = Tensor::zeros(weight_.shape(), dtype, device);
  if (bias) {
    bias_ = drawn({out_features}, dtype, device, draw);
    bias_grad_ = Tensor::zeros(bias_.shape(), dtype, device);
  }
}

Tensor Linear::forward(TrainOps& ops, const ConstTensorView& x) const {
  check_defined("Linear::forward", weight_, "Linear");
  check_argument(x.rank() == 2 && x.dim(1) == in_features(), "Linear::forward", "x", [&] {
    return "is " + to_string(x.shape()) + ", expected [N, " + std::to_string(in_features()) + "] (in_features)";
  });
  Tensor y = Tensor::empty({x.dim(0), out_features()}, weight_.dtype(), weight_.device());
  ops.linear_forward(x, weight_, bias_.defined() ? bias_.view() : ConstTensorView(), y);
  return y;
}

Tensor Linear::backward(TrainOps& ops, const ConstTensorView& x, const ConstTensorView& dy, bool want_dx) {
  check_defined("Linear::backward", weight_, "Linear");
  check_argument(x.rank() == 2 && x.dim(1) == in_features(), "Linear::backward", "x", [&] {
    return "is " + to_string(x.shape()) + ", expected [N, " + std::to_string(in_features()) + "] (in_features)";
  });
  Tensor dx;
  if (want_dx) dx = Tensor::empty(x.shape(), weight_.dtype(), weight_.device());
  ops.linear_backward(x, weight_, dy, dx.defined() ? dx.view() : TensorView(), weight_grad_,
                      bias_grad_.defined() ? bias_grad_.view() : TensorView(), /*accumulate=*/true);
  return dx;
}

std::vector<Parameter> Linear::parameters(const std::string& prefix) const {
  std::vector<Parameter> out;
  if (!weight_.defined()) return out;
  out.push_back({prefix + "weight", weight_, weight_grad_});
  if (bias_.defined()) out.push_back({prefix + "bias", bias_, bias_grad_});
  return out;
}

// ---- Embedding -------------------------------------------------------------------------------

Embedding::Embedding(std::int64_t vocab, std::int64_t dim, DType dtype, Device device, std::uint64_t seed) {
  check_positive("Embedding", "vocab", vocab);
  check_argument(vocab <= std::numeric_limits<std::int32_t>::max(), "Embedding", "vocab",
                 [&] { return "is " + std::to_string(vocab) + ", expected at most 2^31 - 1 (ids are i32)"; });
  check_positive("Embedding", "dim", dim);
  check_floating("Embedding", dtype);
  HostRandom random(seed);  // PyTorch's nn.Embedding: N(0, 1)
  table_ = drawn({vocab, dim}, dtype, device, [&] { return random.normal(); });
  table_grad_ = Tensor::zeros(table_.shape(), dtype, device);
}

Tensor Embedding::forward(TrainOps& ops, const ConstTensorView& ids) const {
  check_defined("Embedding::forward", table_, "Embedding");
  check_argument(ids.rank() == 1, "Embedding::forward", "ids",
                 [&] { return "is " + to_string(ids.shape()) + ", expected [N] i32"; });
  Tensor y = Tensor::empty({ids.dim(0), dim()}, table_.dtype(), table_.device());
  ops.embedding_forward(table_, ids, y);
  return y;
}

void Embedding::backward(TrainOps& ops, const ConstTensorView& ids, const ConstTensorView& dy) {
  check_defined("Embedding::backward", table_, "Embedding");
  ops.embedding_backward(ids, dy, table_grad_, /*accumulate=*/true);
}

std::vector<Parameter> Embedding::parameters(const std::string& prefix) const {
  if (!table_.defined()) return {};
  return {{prefix + "weight", table_, table_grad_}};
}

// ---- Dropout ---------------------------------------------------------------------------------

Dropout::Dropout(double p) : p_(p) {
  check_argument(p >= 0.0 && p < 1.0, "Dropout", "p",
                 [&] { return "is " + std::to_string(p) + ", expected a probability in [0, 1)"; });
}

Tensor Dropout::forward(TrainOps& ops, const Tensor& x, std::uint64_t seed, std::uint64_t stream_id) const {
  if (p_ == 0.0) return x;
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  ops.dropout_forward(x, p_, seed, stream_id, y);
  return y;
}

Tensor Dropout::backward(TrainOps& ops, Tensor dy, std::uint64_t seed, std::uint64_t stream_id) const {
  if (p_ == 0.0) return dy;
  ops.dropout_backward(dy, p_, seed, stream_id, dy);
  return dy;
}

}  // namespace gpurnn::train
