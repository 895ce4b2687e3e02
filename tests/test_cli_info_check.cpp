// `gpurnn info` and `gpurnn check` say what this build has and what this machine can run: the
// GEMM library of the cpu backend, cuDNN and MPI as configured (GPURNN_TEST_* from CMake, not
// asked of the library), and every backend that is built but cannot run, with the reason.

#include <gtest/gtest.h>

#include <string>

#include "test_support.h"

#if !defined(GPURNN_CLI_PATH) || !defined(GPURNN_TEST_ONEDNN_VERSION) || !defined(GPURNN_TEST_CUDNN_VERSION) || \
    !defined(GPURNN_TEST_HAVE_MPI)
#error "tests/CMakeLists.txt defines GPURNN_CLI_PATH and the GPURNN_TEST_* build facts"
#endif

namespace gpurnn::testing {
namespace {

CommandResult gpurnn(const std::string& args) { return run_command(std::string(GPURNN_CLI_PATH) + " " + args); }

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

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
