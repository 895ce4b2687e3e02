// `gpurnn info` and `gpurnn check` say what this build has and what this machine can run: the
// GEMM library of the cpu backend, cuDNN and MPI as configured (GPURNN_TEST_* from CMake, not
// asked of the library), and every backend that is built but cannot run, with the reason.

#include <gtest/gtest.h>

#include <string>

#include "core/thread_count.h"
#include "test_support.h"

#if !defined(GPURNN_CLI_PATH) || !defined(GPURNN_TEST_ONEDNN_VERSION) || !defined(GPURNN_TEST_CUDNN_VERSION) || \
    !defined(GPURNN_TEST_HAVE_MPI)
#error "tests/CMakeLists.txt defines GPURNN_CLI_PATH and the GPURNN_TEST_* build facts"
#endif

namespace gpurnn::testing {
namespace {

CommandResult gpurnn(const std::string& args) { return run_command(std::string(GPURNN_CLI_PATH) + " " + args); }

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The line of `text` that starts with `prefix` (without its newline), or "" when none does.
std::string line_starting(const std::string& text, const std::string& prefix) {
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t end = text.find('\n', at);
    const std::string line = text.substr(at, end == std::string::npos ? std::string::npos : end - at);
    if (line.rfind(prefix, 0) == 0) return line;
    if (end == std::string::npos) break;
    at = end + 1;
  }
  return {};
}

TEST(CliInfo, SaysWhichLibrariesTheGemmsAndBackendsUse) {
  const CommandResult r = gpurnn("info");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string cpu = line_starting(r.output, "  cpu ");
  ASSERT_FALSE(cpu.empty()) << r.output;
  const std::string onednn = GPURNN_TEST_ONEDNN_VERSION;
  if (onednn.empty()) {
    EXPECT_TRUE(contains(cpu, "GEMMs through OpenBLAS")) << cpu;
    EXPECT_FALSE(contains(cpu, "oneDNN")) << cpu;
  } else {  // f32 through oneDNN's matmul (src/cpu/packed_gemm.h), f64 through OpenBLAS
    EXPECT_TRUE(contains(cpu, "f32 GEMMs through oneDNN " + onednn)) << cpu;
    EXPECT_TRUE(contains(cpu, "f64 through OpenBLAS")) << cpu;
  }

  const std::string cudnn_line = line_starting(r.output, "  cudnn ");
  const std::string cudnn = GPURNN_TEST_CUDNN_VERSION;
  if (!cuda_built()) {
    EXPECT_TRUE(cudnn_line.empty()) << r.output;  // the cuda line already says there is no CUDA
  } else if (cudnn.empty()) {
    EXPECT_TRUE(contains(cudnn_line, "not built")) << r.output;
  } else {
    EXPECT_TRUE(contains(cudnn_line, "cuDNN " + cudnn)) << r.output;
    EXPECT_EQ(contains(cudnn_line, "no CUDA device"), cuda_device_count() == 0) << r.output;
  }

  const std::string distributed = line_starting(r.output, "distributed: ");
  ASSERT_FALSE(distributed.empty()) << r.output;
  EXPECT_EQ(contains(distributed, "not built"), GPURNN_TEST_HAVE_MPI == 0) << distributed;
  // "MPI built, ..." or "MPI and NCCL built" (the refusal says "has no MPI", so not a bare "MPI").
  EXPECT_EQ(contains(distributed, "MPI built") || contains(distributed, "MPI and NCCL built"), GPURNN_TEST_HAVE_MPI != 0)
      << distributed;
}

// The cores this process may use and what limits them (issue 33): the same account the
// library gives the command, which runs in this process's cgroup with its affinity mask.
TEST(CliInfo, SaysHowManyCoresItMayUseAndWhy) {
  const CommandResult r = gpurnn("info");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string cores = line_starting(r.output, "cpu cores: ");
  const detail::CoreLimits& c = detail::core_limits();
  EXPECT_TRUE(contains(cores, "cpu cores: " + std::to_string(c.usable) + " usable (affinity " +
                                  std::to_string(c.affinity_cores) + ", "))
      << r.output;
  if (c.quota_cpus) {
    EXPECT_TRUE(contains(cores, "cgroup v" + std::to_string(c.quota_version) + " quota ")) << cores;
    EXPECT_TRUE(contains(cores, " CPUs from " + c.quota_file + ")")) << cores;
  } else {
    EXPECT_TRUE(contains(cores, "cgroup quota none)")) << cores;
  }
  // One CPU in the mask is one usable core whatever the quota.
  if (run_command("taskset -c 0 true").exit_code != 0) GTEST_SKIP() << "no taskset here";
  const CommandResult one = run_command("taskset -c 0 " + std::string(GPURNN_CLI_PATH) + " info");
  ASSERT_EQ(one.exit_code, 0) << one.output;
  EXPECT_TRUE(contains(line_starting(one.output, "cpu cores: "), "cpu cores: 1 usable (affinity 1, ")) << one.output;
}

// Every backend that is built but cannot run here, with the reason `gpurnn info` gives.
TEST(CliCheck, AllNamesTheBackendsItSkipsAndWhy) {
  const CommandResult r = gpurnn("check --backend all");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "\ncpu      lstm ")) << r.output;
  const bool gpu = cuda_device_count() > 0;
  const std::string why = "skipped, no CUDA device (" + cuda_unavailable_reason() + ")";
  EXPECT_EQ(contains(r.output, "cuda: " + why), cuda_built() && !gpu) << r.output;
  EXPECT_EQ(contains(r.output, "cudnn: " + why), !std::string(GPURNN_TEST_CUDNN_VERSION).empty() && !gpu) << r.output;
  EXPECT_EQ(contains(r.output, "\ncuda     lstm "), gpu) << r.output;
  EXPECT_FALSE(contains(r.output, "\nall backends agree") && contains(r.output, ": skipped")) << r.output;
}

// Issue 34: `check --tolerance 0` printed a 309-digit bound.
TEST(CliCheck, NonPositiveToleranceIsAShortError) {
  for (const std::string value : {"0", "0.0"}) {
    const CommandResult r = gpurnn("check --tolerance " + value);
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_TRUE(contains(r.output, "--tolerance")) << r.output;
    EXPECT_TRUE(contains(r.output, "must be above 0, got " + value)) << r.output;
    EXPECT_LT(r.output.size(), 400u) << r.output;
  }
}

// A backend that is built but cannot run here is not "not in this build".
TEST(CliCheck, BuiltBackendWithoutADeviceSaysWhy) {
  if (!cuda_built()) GTEST_SKIP() << "this build has no CUDA";
  if (cuda_device_count() > 0) GTEST_SKIP() << "this machine has a CUDA device: nothing to explain";
  const CommandResult r = gpurnn("check --backend cuda");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "backend 'cuda' is built but cannot run here: no CUDA device (" +
                                     cuda_unavailable_reason() + ")"))
      << r.output;
  EXPECT_FALSE(contains(r.output, "not in this build")) << r.output;
}

TEST(CliCheck, UnknownBackendNamesTheBuiltOnes) {
  const CommandResult r = gpurnn("check --backend tpu");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "backend 'tpu' is not in this build (it has: cpu")) << r.output;
  EXPECT_EQ(contains(r.output, ", cuda"), cuda_built()) << r.output;
}

}  // namespace
}  // namespace gpurnn::testing
