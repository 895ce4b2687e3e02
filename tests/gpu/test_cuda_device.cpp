// The CUDA infrastructure under the backends: device discovery, Tensor storage on cuda:N and
// copies to and from it, the error mapping of CUDA and cuBLAS statuses, the device guard and the
// per-thread cuBLAS handles.
//
// CudaHost.*   need no device (they run, and pass, in CI);
// CudaDevice.* need one and report themselves skipped without it.

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cuda/cublas_handle.h"
#include "kernels/cuda_status.h"
#include "cuda/device_guard.h"
#include "gpu/gpu_test_support.h"
#include "gpurnn/gpurnn.h"
#include "test_support.h"

namespace gpurnn::testing {
namespace {

int current_device() {
  int device = -1;
  EXPECT_EQ(cudaGetDevice(&device), cudaSuccess);
  return device;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.bytes() == b.bytes() && std::memcmp(a.data(), b.data(), a.bytes()) == 0;
}

// ---- without a device ---------------------------------------------------------------------------

TEST(CudaHost, BuiltAndDeviceCountAgreeWithTheReason) {
  EXPECT_TRUE(cuda_built());
  const int count = cuda_device_count();
  EXPECT_GE(count, 0);
  EXPECT_EQ(count == 0, !cuda_unavailable_reason().empty()) << cuda_unavailable_reason();
  EXPECT_EQ(count == 0, !no_gpu_reason().empty()) << no_gpu_reason();
}

TEST(CudaHost, CudaStatusBecomesError) {
  expect_error([] { cuda::check_cuda(cudaErrorInvalidValue, "cudaFrobnicate(p, 3)"); },
               ErrorCode::backend_error,
               {"cudaFrobnicate(p, 3) failed", "cudaErrorInvalidValue", "invalid argument"});
  expect_error([] { cuda::check_cuda(cudaErrorMemoryAllocation, "cudaMalloc"); },
               ErrorCode::out_of_memory, {"cudaMalloc failed", "cudaErrorMemoryAllocation"});
  EXPECT_NO_THROW(cuda::check_cuda(cudaSuccess, "cudaNothing"));
  // The macro passes the expression's text as the call.
  expect_error([] { GPURNN_CUDA_CHECK(cudaErrorInvalidDevice); }, ErrorCode::backend_error,
               {"cudaErrorInvalidDevice failed", "cudaErrorInvalidDevice: invalid device ordinal"});
}

TEST(CudaHost, CublasStatusBecomesError) {
  expect_error([] { cuda::check_cublas(CUBLAS_STATUS_INVALID_VALUE, "cublasSgemm(h, ...)"); },
               ErrorCode::backend_error, {"cublasSgemm(h, ...) failed", "CUBLAS_STATUS_INVALID_VALUE"});
  expect_error([] { GPURNN_CUBLAS_CHECK(CUBLAS_STATUS_ALLOC_FAILED); }, ErrorCode::out_of_memory,
               {"CUBLAS_STATUS_ALLOC_FAILED failed", "CUBLAS_STATUS_ALLOC_FAILED:"});
  EXPECT_NO_THROW(cuda::check_cublas(CUBLAS_STATUS_SUCCESS, "cublasNothing"));
}

TEST(CudaHost, TensorOnAMissingDeviceIsUnsupported) {
  const int missing = cuda_device_count();  // the first ordinal that does not exist
  const std::string device = "cuda:" + std::to_string(missing);
  expect_error([&] { Tensor::empty({2, 3}, DType::f32, Device::cuda(missing)); },
               ErrorCode::unsupported, {"Tensor::empty", device, "not available"});
  expect_error([&] { Tensor::zeros({4}, DType::f64, Device::cuda(missing)); },
               ErrorCode::unsupported, {device});
  Tensor host = Tensor::zeros({3}, DType::f32);
  expect_error([&] { (void)host.to(Device::cuda(missing)); }, ErrorCode::unsupported, {device});
  if (missing == 0) {
    expect_error([] { Tensor::empty({1}, DType::f32, Device::cuda(0)); }, ErrorCode::unsupported,
                 {"no CUDA device found", cuda_unavailable_reason()});
  }
}

TEST(CudaHost, DeviceInfoRejectsAnOrdinalOutOfRange) {
  const int count = cuda_device_count();
  expect_error([&] { (void)cuda_device_info(count); }, ErrorCode::invalid_argument,
               {"cuda_device_info", "'index'", std::to_string(count)});
  expect_error([] { (void)cuda_device_info(-1); }, ErrorCode::invalid_argument, {"'index'", "-1"});
}

TEST(CudaHost, CublasHandleRejectsANegativeDevice) {
  expect_error([] { (void)cuda::cublas_handle_for(-1); }, ErrorCode::invalid_argument,
               {"cublas_handle_for", "'device'"});
}

// ---- with a device ------------------------------------------------------------------------------

TEST(CudaDevice, ListsDevices) {
  GPURNN_REQUIRE_GPU();
  const int count = cuda_device_count();
  ASSERT_GT(count, 0);
  for (int i = 0; i < count; ++i) {
    const DeviceInfo d = cuda_device_info(i);
    SCOPED_TRACE(d.name);
    EXPECT_EQ(d.device, Device::cuda(i));
    EXPECT_FALSE(d.name.empty());
    EXPECT_GE(d.compute_major, 5);
    EXPECT_GE(d.compute_minor, 0);
    EXPECT_GT(d.multiprocessors, 0);
    EXPECT_GT(d.total_memory, std::size_t{1} << 28);
    EXPECT_GE(d.shared_memory_per_block_optin, std::size_t{48} << 10);
    EXPECT_GE(d.shared_memory_per_multiprocessor, d.shared_memory_per_block_optin);
    EXPECT_GE(d.registers_per_multiprocessor, 32 * 1024);
    EXPECT_GE(d.max_threads_per_multiprocessor, 1024);
    EXPECT_GT(d.l2_cache_bytes, 0u);
  }
}

TEST(CudaDevice, TensorRoundTripsThroughTheDevice) {
  GPURNN_REQUIRE_GPU();
  const int before = current_device();
  for (DType dtype : {DType::f32, DType::f64, DType::i32, DType::i64, DType::u8}) {
    SCOPED_TRACE(to_string(dtype));
    const Tensor host = numbered({7, 5, 3}, dtype);
    const Tensor dev = host.to(Device::cuda(0));
    EXPECT_EQ(dev.device(), Device::cuda(0));
    EXPECT_EQ(dev.shape(), host.shape());
    EXPECT_EQ(dev.dtype(), dtype);
    EXPECT_NE(dev.data(), host.data());
    cudaPointerAttributes attrs{};
    ASSERT_EQ(cudaPointerGetAttributes(&attrs, dev.data()), cudaSuccess);
    EXPECT_EQ(attrs.type, cudaMemoryTypeDevice);
    EXPECT_EQ(attrs.device, 0);

    const Tensor back = dev.to(Device::cpu());
    EXPECT_EQ(back.device(), Device::cpu());
    EXPECT_TRUE(same_bytes(back, host));

    const Tensor copy = dev.clone();  // device -> device
    EXPECT_EQ(copy.device(), Device::cuda(0));
    EXPECT_NE(copy.data(), dev.data());
    EXPECT_TRUE(same_bytes(copy.to(Device::cpu()), host));
    const Tensor same_device = dev.to(Device::cuda(0));  // new storage, same bytes
    EXPECT_NE(same_device.data(), dev.data());
    EXPECT_TRUE(same_bytes(same_device.to(Device::cpu()), host));
  }
  const Tensor none = Tensor::empty({0, 3}, DType::f32, Device::cuda(0));
  EXPECT_TRUE(none.defined());
  EXPECT_EQ(none.to(Device::cpu()).numel(), 0);
  EXPECT_EQ(current_device(), before) << "Tensor operations changed the caller's device";
}

TEST(CudaDevice, ZerosFillAndConvertOnTheDevice) {
  GPURNN_REQUIRE_GPU();
  const Tensor z = Tensor::zeros({33, 17}, DType::f64, Device::cuda(0));
  for (double v : to_vector(z.to(Device::cpu()))) ASSERT_EQ(v, 0.0);

  Tensor f = Tensor::empty({1000}, DType::f32, Device::cuda(0));
  f.fill(2.5);
  for (double v : to_vector(f.to(Device::cpu()))) ASSERT_EQ(v, 2.5);
  f.fill(0.0);
  for (double v : to_vector(f.to(Device::cpu()))) ASSERT_EQ(v, 0.0);
  f.fill(-0.0);
  const Tensor negative_zero = f.to(Device::cpu());
  EXPECT_TRUE(std::signbit(negative_zero.data_as<float>()[999]));

  Tensor i = Tensor::empty({9}, DType::i32, Device::cuda(0));
  i.fill(-7);
  for (int k = 0; k < 9; ++k) ASSERT_EQ(i.to(Device::cpu()).data_as<std::int32_t>()[k], -7);

  const Tensor x = random_tensor({4, 6}, DType::f64, 3, 4);
  const Tensor x32 = x.to(Device::cuda(0)).to(DType::f32);
  EXPECT_EQ(x32.device(), Device::cuda(0));
  EXPECT_EQ(x32.dtype(), DType::f32);
  EXPECT_TRUE(same_bytes(x32.to(Device::cpu()), x.to(DType::f32)));
  // A value an integer cannot hold is refused on the device as on the host.
  Tensor nan = Tensor::empty({2}, DType::f32, Device::cuda(0));
  nan.fill(std::nan(""));
  expect_error([&] { (void)nan.to(DType::i32); }, ErrorCode::invalid_argument, {"not representable"});
}

TEST(CudaDevice, OutOfMemoryIsAnErrorNotACrash) {
  GPURNN_REQUIRE_GPU();
  const std::size_t total = cuda_device_info(0).total_memory;
  const auto floats = static_cast<std::int64_t>(total);  // 4x the device's memory
  expect_error([&] { Tensor::empty({floats}, DType::f32, Device::cuda(0)); },
               ErrorCode::out_of_memory,
               {"Tensor::empty", "cannot allocate", std::to_string(4 * total) + " bytes", "cuda:0"});
  // Nothing is left behind: the next allocation, copy and launch check work.
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  const Tensor host = numbered({100}, DType::f32);
  EXPECT_TRUE(same_bytes(host.to(Device::cuda(0)).to(Device::cpu()), host));
  EXPECT_NO_THROW(cuda::check_launch("nothing"));
}

TEST(CudaDevice, FailingCudaCallBecomesErrorAndIsCleared) {
  GPURNN_REQUIRE_GPU();
  const int before = current_device();
  const int missing = cuda_device_count();
  expect_error([&] { GPURNN_CUDA_CHECK(cudaSetDevice(missing)); }, ErrorCode::backend_error,
               {"cudaSetDevice(missing) failed", "cudaErrorInvalidDevice"});
  EXPECT_EQ(cudaGetLastError(), cudaSuccess) << "check_cuda must clear the error it reports";
  EXPECT_EQ(current_device(), before);

  // check_launch reports an error recorded by an unchecked call (as a bad launch records one).
  EXPECT_EQ(cudaSetDevice(missing), cudaErrorInvalidDevice);
  expect_error([] { cuda::check_launch("fused_gates_kernel"); }, ErrorCode::backend_error,
               {"fused_gates_kernel launch failed", "cudaErrorInvalidDevice"});
  EXPECT_NO_THROW(cuda::check_launch("fused_gates_kernel"));

  expect_error([&] { cuda::DeviceGuard guard(missing); }, ErrorCode::backend_error,
               {"cudaSetDevice", "cudaErrorInvalidDevice"});
  EXPECT_EQ(current_device(), before);
}

TEST(CudaDevice, DeviceGuardRestoresTheCallersDevice) {
  GPURNN_REQUIRE_GPU();
  const int last = cuda_device_count() - 1;
  ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
  {
    cuda::DeviceGuard guard(last);
    EXPECT_EQ(current_device(), last);
    EXPECT_EQ(guard.previous(), 0);
    {
      cuda::DeviceGuard inner(0);
      EXPECT_EQ(current_device(), 0);
    }
    EXPECT_EQ(current_device(), last);
  }
  EXPECT_EQ(current_device(), 0);
}

TEST(CudaDevice, CublasHandlePerThreadAndStreamScopeRestores) {
  GPURNN_REQUIRE_GPU();
  cublasHandle_t h = cuda::cublas_handle_for(0);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(cuda::cublas_handle_for(0), h);  // created once per thread
  cublasHandle_t other = nullptr;
  std::thread([&] { other = cuda::cublas_handle_for(0); }).join();
  EXPECT_NE(other, nullptr);
  EXPECT_NE(other, h);

  cudaStream_t outer = nullptr, inner = nullptr;
  ASSERT_EQ(cudaStreamCreate(&outer), cudaSuccess);
  ASSERT_EQ(cudaStreamCreateWithFlags(&inner, cudaStreamNonBlocking), cudaSuccess);
  ASSERT_EQ(cublasSetStream(h, outer), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasSetPointerMode(h, CUBLAS_POINTER_MODE_DEVICE), CUBLAS_STATUS_SUCCESS);
  {
    cuda::CublasStreamScope scope(h, inner);
    EXPECT_EQ(scope.handle(), h);
    cudaStream_t s = nullptr;
    cublasPointerMode_t mode = CUBLAS_POINTER_MODE_DEVICE;
    ASSERT_EQ(cublasGetStream(h, &s), CUBLAS_STATUS_SUCCESS);
    ASSERT_EQ(cublasGetPointerMode(h, &mode), CUBLAS_STATUS_SUCCESS);
    EXPECT_EQ(s, inner);
    EXPECT_EQ(mode, CUBLAS_POINTER_MODE_HOST);

    // The handle works: y = 2 x + y on `inner`.
    Tensor x = Tensor::from_host<float>({3}, std::vector<float>{1, 2, 3}.data()).to(Device::cuda(0));
    Tensor y = Tensor::from_host<float>({3}, std::vector<float>{10, 20, 30}.data()).to(Device::cuda(0));
    const float alpha = 2.0f;
    GPURNN_CUBLAS_CHECK(cublasSaxpy(h, 3, &alpha, x.data_as<float>(), 1, y.data_as<float>(), 1));
    GPURNN_CUDA_CHECK(cudaStreamSynchronize(inner));
    const Tensor result = y.to(Device::cpu());
    EXPECT_EQ(result.data_as<float>()[0], 12.0f);
    EXPECT_EQ(result.data_as<float>()[2], 36.0f);
  }
  cudaStream_t s = nullptr;
  cublasPointerMode_t mode = CUBLAS_POINTER_MODE_HOST;
  ASSERT_EQ(cublasGetStream(h, &s), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasGetPointerMode(h, &mode), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(s, outer);
  EXPECT_EQ(mode, CUBLAS_POINTER_MODE_DEVICE);
  ASSERT_EQ(cublasSetPointerMode(h, CUBLAS_POINTER_MODE_HOST), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasSetStream(h, nullptr), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(cudaStreamDestroy(inner), cudaSuccess);
  EXPECT_EQ(cudaStreamDestroy(outer), cudaSuccess);
}

TEST(CudaDevice, ManyAllocationsAndFreesInALoop) {
  GPURNN_REQUIRE_GPU();
  // Allocate, fill, read back and free, over and over: freed memory is reused in stream order
  // (the pool keeps it) and every tensor reads back what was written to it.
  for (int i = 0; i < 200; ++i) {
    Tensor t = Tensor::empty({(1 << 20) + i}, DType::f32, Device::cuda(0));
    t.fill(static_cast<double>(i));
    if (i % 25 == 0) {
      const Tensor back = t.to(Device::cpu());
      ASSERT_EQ(back.data_as<float>()[0], static_cast<float>(i));
      ASSERT_EQ(back.data_as<float>()[(1 << 20) + i - 1], static_cast<float>(i));
    }
  }
}

}  // namespace
}  // namespace gpurnn::testing
