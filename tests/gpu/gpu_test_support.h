#pragma once
// Helpers for the tests that need a CUDA device (the gpurnn_gpu_tests executable, CTest label
// "gpu"). Every such test starts with GPURNN_REQUIRE_GPU(), so on a machine without a device
// (CI) it is reported as skipped, by name and with the runtime's reason, rather than failed.
//
//   TEST(CudaStandard, LstmSmall) {
//     GPURNN_REQUIRE_GPU();
//     Tensor x = gpurnn::testing::to_cuda(random_tensor({T, B, I}, DType::f32, 1, 2));
//     ...
//     EXPECT_LT(relative_error(gpurnn::testing::to_host(y), y_cpu), 1e-5);
//   }
//
// Nothing here runs at static-initialisation time: gtest_discover_tests lists the tests by
// running the executable at build time, also on machines without a driver.

#include <cuda_runtime.h>

#include <string>

#include <gtest/gtest.h>

#include "gpurnn/backend.h"
#include "gpurnn/device.h"
#include "gpurnn/tensor.h"
#include "gpurnn/train/batch.h"
#include "device/device_test_support.h"  // batch_on, to_host

namespace gpurnn::testing {

// Empty when a CUDA device is present; otherwise why not, from cudaGetDeviceCount.
inline std::string no_gpu_reason() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();
    return std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status);
  }
  return count > 0 ? std::string() : std::string("cudaGetDeviceCount reports 0 devices");
}

// The copy of a tensor on cuda:`index` / on the host.
inline Tensor to_cuda(const Tensor& t, int index = 0) { return t.to(Device::cuda(index)); }


}  // namespace gpurnn::testing

// Skips the current test, with the reason, when there is no CUDA device.
#define GPURNN_REQUIRE_GPU()                                                        \
  do {                                                                              \
    const std::string gpurnn_no_gpu_reason = ::gpurnn::testing::no_gpu_reason();    \
    if (!gpurnn_no_gpu_reason.empty()) {                                            \
      GTEST_SKIP() << "no CUDA device: " << gpurnn_no_gpu_reason;                   \
    }                                                                               \
  } while (false)
