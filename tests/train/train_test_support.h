#pragma once
// Helpers of the training-layer suites: typed random inputs, i32 index tensors, tolerances,
// weighted sums as losses (central differences: numeric_gradient in test_support.h).

#include <cstdint>
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
