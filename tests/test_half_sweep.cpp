// The cpu backend in bf16 and f16 over the sweep (cell kinds × sizes × layers × directions ×
// ragged lengths × bias, as RegistrySweep), inference and training (with inter-layer dropout on
// stacked cases), batch 4 and batch 1: every element of y, hn and cn within the derived bound of
// the README's precision rule (tests/reference/naive_rnn_bound.h) around the exact f64 result of
// the same half-rounded inputs and weights. Batch 4 multiplies with oneDNN's bf16 matmul where
// the CPU has one, batch 1 with the bf16 GEMV; CTest's half.without_bf16_matmul runs it again on
// the widened-f32 path.

#include <gtest/gtest.h>

#include "half_bound_check.h"

namespace gpurnn::testing {
namespace {

class HalfSweep : public ::testing::TestWithParam<SweepCase> {};

TEST_P(HalfSweep, CpuIsWithinTheDerivedBound) { expect_half_within_bound("cpu", GetParam()); }

// Every stacking up to 3 layers at H 1 and 7; H 65 (wider than a 64-lane block) on one layer: the
// bound's cost grows with the square of a stack's error terms, and H 65 at 3 bidirectional layers
// took 15 s a case.
INSTANTIATE_TEST_SUITE_P(Sweep, HalfSweep, ::testing::ValuesIn(sweep_cases({1, 7}, 3)), SweepCaseName());
INSTANTIATE_TEST_SUITE_P(Wide, HalfSweep, ::testing::ValuesIn(sweep_cases({65}, 1)), SweepCaseName());

}  // namespace
}  // namespace gpurnn::testing
