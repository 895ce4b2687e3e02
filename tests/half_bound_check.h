#pragma once
// The half sweep's check, shared by the cpu run (test_half_sweep.cpp) and the GPU backends'
// (tests/gpu/test_half_gpu.cpp): one sweep case on `backend` in bf16 and f16, inference and
// training (inter-layer dropout on stacked cases), batch 4 and batch 1, every element of y, hn
// and cn within the derived bound of the README's precision rule (tests/reference/naive_rnn_bound.h)
// around the exact f64 result of the same half-rounded inputs and weights.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gpurnn/detail/counter_random.h"
#include "reference/naive_rnn_bound.h"
#include "sweep_cases.h"
#include "test_support.h"

namespace gpurnn::testing {

inline std::vector<double> optional_vector(const Tensor& t) {
  return t.defined() ? to_vector(t) : std::vector<double>();
}

inline void expect_half_within_bound(const std::string& backend, const SweepCase& c) {
  for (DType half : {DType::bf16, DType::f16}) {
    SCOPED_TRACE(to_string(half));
    for (ForwardMode mode : {ForwardMode::inference, ForwardMode::training}) {
      SCOPED_TRACE(mode == ForwardMode::training ? "training" : "inference");
      RNNDescriptor d = c.desc;
      if (mode == ForwardMode::training && d.num_layers > 1) d.dropout = 0.3;
      RNNWeights w(d, half);
      w.init_uniform(17);
      RNNWeights w64(d, DType::f64);
      copy_into(w.flat().to(DType::f64), w64.flat());
      for (const std::vector<std::int32_t>& lengths : {std::vector<std::int32_t>{3, kSweepSteps, 1, 4},
                                                      std::vector<std::int32_t>{5}}) {
        const auto B = static_cast<int>(lengths.size());
        SCOPED_TRACE("batch " + std::to_string(B));
        const FullRunInputs in = sweep_inputs(d, lengths, c.ragged, mode, false, half);
        const FullRun r = full_run(shared_backend(backend), w, in);
        std::vector<int> ref_lengths(lengths.begin(), lengths.end());
        if (!c.ragged) ref_lengths.assign(lengths.size(), static_cast<int>(kSweepSteps));
        const std::vector<double> h0 = optional_vector(in.h0), c0 = optional_vector(in.c0);
        const std::int64_t width = d.output_size();
        const std::uint64_t seed = in.dropout_seed;
        gpurnn_ref::DropoutScale mask;
        if (mode == ForwardMode::training && d.dropout > 0) {
          mask = [&](int layer, int t, int b, int j) {
            const auto index = static_cast<std::uint64_t>((static_cast<std::int64_t>(t) * B + b) * width + j);
            return detail::dropout_scale(seed, static_cast<std::uint64_t>(layer), index, d.dropout);
          };
        }
        const gpurnn_ref::BoundedResult expected = gpurnn_ref::forward_bound(
            reference_config(d), reference_params(w64), to_vector(in.x), static_cast<int>(kSweepSteps), B, ref_lengths,
            in.h0.defined() ? &h0 : nullptr, in.c0.defined() ? &c0 : nullptr,
            gpurnn_ref::half_rule(unit_roundoff(half)), mask);
        gpurnn_ref::Result actual;
        actual.y = to_vector(r.y);
        actual.hn = to_vector(r.hn);
        actual.cn = optional_vector(r.cn);
        EXPECT_EQ(gpurnn_ref::bound_violations(actual, expected), "");
      }
    }
  }
}

}  // namespace gpurnn::testing
