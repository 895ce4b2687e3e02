// The GPU backends against the cpu backend, f32, across the full sweep of cell kinds × sizes ×
// layers × directions × lengths × bias × projection: forward within 1e-5, every gradient within
// 1e-4 (relative error). Outputs, workspace and reserve are poisoned with NaN on the device
// before each run. Skipped, with the reason, when no GPU is present.
//   CudaVsCpu               cuda (standard algorithm), the full sweep
//   CudnnVsCpu              cudnn (standard algorithm), the full sweep; what unsupported_reason
//                           refuses (rnn_sigmoid) is skipped with its reason
//   CudnnAlgorithmsVsCpu    every other cudnn algorithm on a smaller sweep, likewise

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <tuple>

#include "gpu_test_support.h"
#include "sweep_cases.h"
#include "test_support.h"

namespace gpurnn::testing {
namespace {

// `forward_tol` and `grad_tol` are relative errors (f32 by default; f64 runs pass tighter ones).
void expect_backend_matches_cpu(const std::string& backend, const RNNDescriptor& d,
                                const FullRunInputs& in, double forward_tol = 1e-5,
                                double grad_tol = 1e-4) {
  RNNWeights w(d, in.x.dtype());
  w.init_uniform(13);
  const FullRun cpu = full_run(shared_backend("cpu"), w, in);
  const FullRun gpu = full_run(shared_backend(backend), w, in);
  expect_runs_match(gpu, cpu, d, in.mode, backend, forward_tol, grad_tol);
}

void expect_cuda_matches_cpu(const RNNDescriptor& d, const FullRunInputs& in) {
  expect_backend_matches_cpu("cuda", d, in);
}

class CudaVsCpu : public ::testing::TestWithParam<SweepCase> {};

TEST_P(CudaVsCpu, StandardAlgorithmMatchesCpu) {
  GPURNN_REQUIRE_GPU();
  SweepCase c = GetParam();
  if (c.desc.num_layers > 1 && c.desc.bias) c.desc.dropout = 0.3;  // the same mask on both
  for (ForwardMode mode : {ForwardMode::inference, ForwardMode::training}) {
    SCOPED_TRACE(mode == ForwardMode::training ? "training" : "inference");
    expect_cuda_matches_cpu(c.desc, sweep_inputs(c.desc, {3, kSweepSteps, 1, 5}, c.ragged, mode));
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
    expect_cuda_matches_cpu(c.desc, sweep_inputs(c.desc, {2, kSweepSteps, 1}, c.ragged,
                                                 ForwardMode::training, /*batch_first=*/true));
  }
}

// ---- cudnn ----------------------------------------------------------------------------------------

// Skips the current test, with cuDNN's reason, when `backend` cannot run `desc` in `dtype` (asked
// of the shared backend, which keeps cuDNN's answers: persist_dynamic compiles a plan to answer).
#define GPURNN_SKIP_UNSUPPORTED(backend, desc, dtype)                                        \
  do {                                                                                       \
    if (const auto why = shared_backend(backend).unsupported_reason((desc), (dtype))) {      \
      GTEST_SKIP() << (backend) << ": " << *why;                                             \
    }                                                                                        \
  } while (false)

// The cudnn backend refuses training with inter-layer dropout (its mask is not gpurnn's), so
// dropout is set for inference only, where every backend ignores it.
void expect_cudnn_matches_cpu(const std::string& backend, const SweepCase& c) {
  for (ForwardMode mode : {ForwardMode::inference, ForwardMode::training}) {
    SCOPED_TRACE(mode == ForwardMode::training ? "training" : "inference");
    RNNDescriptor d = c.desc;
    if (mode == ForwardMode::inference && d.num_layers > 1 && d.bias) d.dropout = 0.3;
    expect_backend_matches_cpu(backend, d, sweep_inputs(d, {3, kSweepSteps, 1, 5}, c.ragged, mode));
  }
}

class CudnnVsCpu : public ::testing::TestWithParam<SweepCase> {};

TEST_P(CudnnVsCpu, StandardAlgorithmMatchesCpu) {
  GPURNN_REQUIRE_GPU();
  GPURNN_SKIP_UNSUPPORTED("cudnn", GetParam().desc, DType::f32);
  expect_cudnn_matches_cpu("cudnn", GetParam());
}

// Without cuDNN in the build backend_algorithms("cudnn") is empty and so are these suites.
std::vector<SweepCase> cudnn_sweep() {
  return backend_algorithms("cudnn").empty() ? std::vector<SweepCase>{} : sweep_cases({1, 7, 65, 256}, 3);
}
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(CudnnVsCpu);
INSTANTIATE_TEST_SUITE_P(Sweep, CudnnVsCpu, ::testing::ValuesIn(cudnn_sweep()), SweepCaseName());

using AlgorithmCase = std::tuple<std::string, SweepCase>;

class CudnnAlgorithmsVsCpu : public ::testing::TestWithParam<AlgorithmCase> {};

TEST_P(CudnnAlgorithmsVsCpu, MatchesCpu) {
  GPURNN_REQUIRE_GPU();
  const auto& [algorithm, c] = GetParam();
  const std::string backend = "cudnn/" + algorithm;
  GPURNN_SKIP_UNSUPPORTED(backend, c.desc, DType::f32);
  if (c.ragged && (algorithm == "persist_static_small_h" || algorithm == "persist_dynamic")) {
    // Refused per batch, not per descriptor; CudnnErrors.RefusesWhatCudnnCannotDo checks it.
    GTEST_SKIP() << backend << " takes only batches of equal lengths";
  }
  expect_cudnn_matches_cpu(backend, c);
}

std::vector<AlgorithmCase> cudnn_algorithm_sweep() {
  std::vector<AlgorithmCase> cases;
  for (const std::string& algorithm : backend_algorithms("cudnn")) {
    if (algorithm == "standard") continue;  // CudnnVsCpu
    for (const SweepCase& c : sweep_cases({7, 65}, 2)) cases.emplace_back(algorithm, c);
  }
  return cases;
}
struct AlgorithmCaseName {
  std::string operator()(const ::testing::TestParamInfo<AlgorithmCase>& info) const {
    return std::get<0>(info.param) + "_" + std::get<1>(info.param).name();
  }
};
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(CudnnAlgorithmsVsCpu);
INSTANTIATE_TEST_SUITE_P(Sweep, CudnnAlgorithmsVsCpu, ::testing::ValuesIn(cudnn_algorithm_sweep()),
                         AlgorithmCaseName());

// Small cases for compute-sanitizer runs (bench/gpu_check.sh filters on "Small"): batch 1,
// batch_first and ragged, f32 and f64 (f64 against the f64 cpu path, to 1e-10 / 1e-9).
TEST(CudnnSmall, EveryCellBatchOneBatchFirstRaggedAndF64) {
  GPURNN_REQUIRE_GPU();
  if (backend_algorithms("cudnn").empty()) GTEST_SKIP() << "this build has no cuDNN";
  for (const SweepCase& c : sweep_cases({5}, 2)) {
    if (!c.desc.bias || make_backend("cudnn")->unsupported_reason(c.desc, DType::f32)) continue;
    SCOPED_TRACE(c.name());
    expect_backend_matches_cpu("cudnn", c.desc, sweep_inputs(c.desc, {4}, c.ragged, ForwardMode::training));
    expect_backend_matches_cpu("cudnn", c.desc, sweep_inputs(c.desc, {2, kSweepSteps, 1}, c.ragged,
                                                             ForwardMode::training, /*batch_first=*/true));
    expect_backend_matches_cpu("cudnn", c.desc,
                               sweep_inputs(c.desc, {3, kSweepSteps, 1}, c.ragged, ForwardMode::training,
                                            /*batch_first=*/false, DType::f64),
                               1e-10, 1e-9);
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
