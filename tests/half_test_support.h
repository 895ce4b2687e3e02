#pragma once
// What the half-precision tests of every backend share (test_half_backend.cpp for the cpu,
// tests/gpu/test_half_gpu.cpp for the CUDA backends): small descriptors, random inputs with
// gradients to feed back, conversions between dtypes, and the gradient check against f64.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "test_support.h"

namespace gpurnn::testing {

inline constexpr DType kHalves[] = {DType::bf16, DType::f16};

inline RNNDescriptor descriptor(CellKind cell, bool bidirectional = false, int layers = 1, int proj = 0) {
  RNNDescriptor d;
  d.cell = cell;
  d.input_size = 5;
  d.hidden_size = 7;
  d.num_layers = layers;
  d.bidirectional = bidirectional;
  d.proj_size = proj;
  return d;
}

inline FullRunInputs random_inputs(const RNNDescriptor& d, std::int64_t steps, std::int64_t batch, DType dtype,
                            bool with_lengths) {
  const std::int64_t states = static_cast<std::int64_t>(d.num_layers) * d.num_directions();
  FullRunInputs in;
  in.x = random_tensor({steps, batch, d.input_size}, dtype, 11, 1);
  in.h0 = random_tensor({states, batch, d.state_size()}, dtype, 11, 2, 0.5);
  if (d.has_cell_state()) in.c0 = random_tensor({states, batch, d.hidden_size}, dtype, 11, 3, 0.5);
  in.dy = random_tensor({steps, batch, d.output_size()}, dtype, 11, 4);
  in.dhn = random_tensor({states, batch, d.state_size()}, dtype, 11, 5);
  if (d.has_cell_state()) in.dcn = random_tensor({states, batch, d.hidden_size}, dtype, 11, 6);
  if (with_lengths) {
    std::vector<std::int32_t> lengths(static_cast<std::size_t>(batch));
    for (std::int64_t b = 0; b < batch; ++b) lengths[static_cast<std::size_t>(b)] = static_cast<std::int32_t>(1 + (b * 5) % steps);
    in.lengths = Tensor::from_host<std::int32_t>({batch}, lengths.data());
  }
  return in;
}

// The same inputs in another dtype (the half values widened exactly).
inline FullRunInputs converted(const FullRunInputs& in, DType dtype) {
  FullRunInputs out = in;
  for (Tensor* t : {&out.x, &out.h0, &out.c0, &out.dy, &out.dhn, &out.dcn}) {
    if (t->defined()) *t = t->to(dtype);
  }
  return out;
}

inline RNNWeights weights_in(const RNNWeights& w, DType dtype) {
  RNNWeights out(w.descriptor(), dtype);
  copy_into(w.flat().to(dtype), out.flat());
  return out;
}

// The largest |a - b| over the largest |b| (a in any floating dtype, b f64); infinite when a has
// a NaN or an infinity.
inline double max_error_relative_to_largest(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = to_vector(a.to(DType::f64)), y = to_vector(b);
  double err = 0, scale = 0;
  for (std::size_t k = 0; k < x.size(); ++k) {
    err = std::max(err, std::fabs(x[k] - y[k]));
    scale = std::max(scale, std::fabs(y[k]));
  }
  return std::isfinite(err) ? err / scale : INFINITY;
}

// The backward runs in f32 from the forward's half-rounded states; its results differ from the
// f64 gradients of the same (half-valued) problem by what those roundings change: each of the T
// steps' saved h (and m) is within u of the exact one, so we allow 4·T·L·u relative to the
// largest gradient (a stated tolerance, not a derived bound; the forward's bound is derived in
// tests/reference). The weight gradients are f32.
inline void expect_half_gradients_near_f64(const std::string& backend) {
  constexpr std::int64_t kSteps = 5;
  for (DType half : kHalves) {
    for (const RNNDescriptor& d : {descriptor(CellKind::lstm, true, 2), descriptor(CellKind::gru),
                                   descriptor(CellKind::rnn_tanh, false, 2), descriptor(CellKind::lstm, false, 1, 3)}) {
      RNNWeights w(d, half);
      w.init_uniform(6);
      const FullRunInputs in = random_inputs(d, kSteps, 3, half, true);
      const FullRun h = full_run(shared_backend(backend), w, in);
      const FullRun e = full_run(shared_backend("cpu"), weights_in(w, DType::f64), converted(in, DType::f64));
      const std::string where = backend + " " + to_string(half) + " " + case_name(d);
      ASSERT_EQ(h.dweights.dtype(), DType::f32) << where;
      EXPECT_EQ(h.dx.dtype(), half) << where;
      const double tolerance = 4.0 * kSteps * d.num_layers * unit_roundoff(half);
      const auto max_error = max_error_relative_to_largest;
      EXPECT_LT(max_error(h.dweights.flat(), e.dweights.flat()), tolerance) << where << " weights";
      EXPECT_LT(max_error(h.dx, e.dx), tolerance) << where << " dx";
      EXPECT_LT(max_error(h.dh0, e.dh0), tolerance) << where << " dh0";
      EXPECT_LT(max_error(h.y, e.y), tolerance) << where << " y";
    }
  }
}

}  // namespace gpurnn::testing
