// The cuda backend (standard algorithm) against the cpu backend, f32, across the full sweep of
// cell kinds × sizes × layers × directions × lengths × bias × projection: forward within 1e-5,
// every gradient within 1e-4 (relative error). Outputs, workspace and reserve are poisoned with
// NaN on the device before each run. Skipped, with the reason, when no GPU is present.

#include <gtest/gtest.h>

#include <algorithm>

#include "gpu_test_support.h"
#include "sweep_cases.h"
#include "test_support.h"

namespace gpurnn::testing {
namespace {

constexpr std::int64_t kSteps = 6;

FullRunInputs sweep_inputs(const RNNDescriptor& d, const std::vector<std::int32_t>& lengths, bool ragged,
                           ForwardMode mode, bool batch_first = false) {
  const std::int64_t states = static_cast<std::int64_t>(d.num_layers) * d.num_directions();
  const auto B = static_cast<std::int64_t>(lengths.size());
  const auto seq = [&](std::int64_t f) {
    return batch_first ? Shape{B, kSteps, f} : Shape{kSteps, B, f};
  };
  FullRunInputs in;
  in.mode = mode;
  in.batch_first = batch_first;
  in.x = random_tensor(seq(d.input_size), DType::f32, 7, 1);
  in.h0 = random_tensor({states, B, d.state_size()}, DType::f32, 7, 2, 0.5);
  if (d.has_cell_state()) in.c0 = random_tensor({states, B, d.hidden_size}, DType::f32, 7, 3, 0.5);
  in.dy = random_tensor(seq(d.output_size()), DType::f32, 7, 4);
  in.dhn = random_tensor({states, B, d.state_size()}, DType::f32, 7, 5);
  if (d.has_cell_state()) in.dcn = random_tensor({states, B, d.hidden_size}, DType::f32, 7, 6);
  if (ragged) in.lengths = Tensor::from_host<std::int32_t>({B}, lengths.data());
  in.dropout_seed = 31;
  return in;
}

void expect_cuda_matches_cpu(const RNNDescriptor& d, const FullRunInputs& in) {
  RNNWeights w(d, DType::f32);
  w.init_uniform(13);
  const FullRun cpu = full_run(*make_backend("cpu"), w, in);
  const FullRun gpu = full_run(*make_backend("cuda"), w, in);
  EXPECT_LT(relative_error(gpu.y, cpu.y), 1e-5) << "y";
  EXPECT_LT(relative_error(gpu.hn, cpu.hn), 1e-5) << "hn";
  if (d.has_cell_state()) {
    EXPECT_LT(relative_error(gpu.cn, cpu.cn), 1e-5) << "cn";
  }
  if (in.mode == ForwardMode::inference) return;
  EXPECT_LT(relative_error(gpu.dx, cpu.dx), 1e-4) << "dx";
  EXPECT_LT(relative_error(gpu.dh0, cpu.dh0), 1e-4) << "dh0";
  if (d.has_cell_state()) {
    EXPECT_LT(relative_error(gpu.dc0, cpu.dc0), 1e-4) << "dc0";
  }
  EXPECT_LT(relative_error(gpu.dweights.flat(), cpu.dweights.flat()), 1e-4) << "weights";
}

class CudaVsCpu : public ::testing::TestWithParam<SweepCase> {};

TEST_P(CudaVsCpu, StandardAlgorithmMatchesCpu) {
  GPURNN_REQUIRE_GPU();
  SweepCase c = GetParam();
  if (c.desc.num_layers > 1 && c.desc.bias) c.desc.dropout = 0.3;  // the same mask on both
  for (ForwardMode mode : {ForwardMode::inference, ForwardMode::training}) {
    SCOPED_TRACE(mode == ForwardMode::training ? "training" : "inference");
    expect_cuda_matches_cpu(c.desc, sweep_inputs(c.desc, {3, kSteps, 1, 5}, c.ragged, mode));
  }
}

INSTANTIATE_TEST_SUITE_P(Sweep, CudaVsCpu, ::testing::ValuesIn(sweep_cases({1, 7, 65, 256}, 3)),
                         SweepCaseName());

// Small cases for compute-sanitizer runs (bench/gpu_check.sh filters on "Small").
TEST(CudaSmall, EveryCellBatchOneBatchFirstAndRagged) {
  GPURNN_REQUIRE_GPU();
  for (const SweepCase& c : sweep_cases({5}, 2)) {
    if (!c.desc.bias) continue;
    SCOPED_TRACE(c.name());
    expect_cuda_matches_cpu(c.desc, sweep_inputs(c.desc, {4}, c.ragged, ForwardMode::training));
    expect_cuda_matches_cpu(c.desc, sweep_inputs(c.desc, {2, kSteps, 1}, c.ragged,
                                                 ForwardMode::training, /*batch_first=*/true));
  }
}

// Runs without a device too: asking for a device that is not there is a clear error.
TEST(CudaHost, MakeBackendForAMissingDeviceIsUnsupported) {
  expect_error([] { make_backend("cuda:99"); }, ErrorCode::unsupported, {"cuda:99", "not present"});
  if (cuda_device_count() == 0) {
    expect_error([] { make_backend("cuda"); }, ErrorCode::unsupported, {"cuda:0", "not present"});
  }
  const std::vector<std::string> names = available_backends();
  EXPECT_EQ(cuda_device_count() > 0, std::find(names.begin(), names.end(), "cuda") != names.end());
}

}  // namespace
}  // namespace gpurnn::testing
