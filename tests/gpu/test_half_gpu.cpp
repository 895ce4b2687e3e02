// The CUDA backends in bf16 and f16 (issue 31): the precision rule of the README on the device.
//   CudaHalfSweep     cuda (standard) and cuda/auto over the half sweep: every element of y, hn
//                     and cn within the derived bound (tests/half_bound_check.h), as the cpu is
//   CudaHalfGradients cuda's half gradients are f32 and within the cpu's stated tolerance of f64
// (cudnn's half algorithms: tests/gpu/cudnn/test_cudnn_half.cpp.)
// Skipped, with the reason, when no GPU is present: compiled, not yet run.

#include <gtest/gtest.h>

#include <string>

#include "gpu_test_support.h"
#include "half_bound_check.h"
#include "half_test_support.h"

namespace gpurnn::testing {
namespace {

class CudaHalfSweep : public ::testing::TestWithParam<SweepCase> {};

TEST_P(CudaHalfSweep, StandardAndAutoAreWithinTheDerivedBound) {
  GPURNN_REQUIRE_GPU();
  expect_half_within_bound("cuda", GetParam());
  expect_half_within_bound("cuda/auto", GetParam());
}

INSTANTIATE_TEST_SUITE_P(Sweep, CudaHalfSweep, ::testing::ValuesIn(sweep_cases({7, 65}, 2)), SweepCaseName());

TEST(CudaHalfGradients, AreF32AndAgreeWithF64) {
  GPURNN_REQUIRE_GPU();
  expect_half_gradients_near_f64("cuda");
}

}  // namespace
}  // namespace gpurnn::testing
