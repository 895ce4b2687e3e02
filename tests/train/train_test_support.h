#pragma once
// Helpers of the training-layer suites: typed random inputs, i32 index tensors, tolerances,
// central differences.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gpurnn/train/ops.h"
#include "test_support.h"

namespace gpurnn::testing {

// Relative error allowed against the f64 reference: f32 results carry f32 rounding.
inline double tolerance(DType dtype) { return dtype == DType::f32 ? 2e-6 : 1e-13; }

inline Tensor ids_tensor(const std::vector<std::int32_t>& ids) {
  return Tensor::from_host<std::int32_t>({static_cast<std::int64_t>(ids.size())}, ids.data());
}

// The elements of a typed tensor as doubles (what the f64 reference is fed, so the reference
// sees the same rounded inputs as the op).
inline std::vector<double> values(const Tensor& t) { return to_vector(t); }

// d loss / d t[i] by central differences with step 1e-6, perturbing `t` (f64, host; shares
// storage with what loss() reads) in place and restoring it.
inline std::vector<double> numeric_gradient(Tensor t, const std::function<double()>& loss) {
  constexpr double kStep = 1e-6;
  std::vector<double> grad;
  double* p = t.data_as<double>();
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    const double saved = p[i];
    p[i] = saved + kStep;
    const double up = loss();
    p[i] = saved - kStep;
    const double down = loss();
    p[i] = saved;
    grad.push_back((up - down) / (2 * kStep));
  }
  return grad;
}

// sum(y * w) of two f64 tensors: a scalar whose gradient with respect to y is w.
inline double weighted_sum(const Tensor& y, const Tensor& w) {
  double sum = 0.0;
  for (std::int64_t i = 0; i < y.numel(); ++i) sum += y.data_as<double>()[i] * w.data_as<double>()[i];
  return sum;
}

// Names dtype-parameterised tests "f32" and "f64".
struct DTypeName {
  template <class Info>
  std::string operator()(const Info& i) const { return to_string(i.param); }
};

}  // namespace gpurnn::testing
