// CUDA device discovery: the public functions of gpurnn/device.h for a build with CUDA.

#include <cuda_runtime.h>

#include <string>

#include "kernels/cuda_status.h"
#include "gpurnn/device.h"
#include "gpurnn/error.h"

namespace gpurnn {
namespace {

struct DeviceCount {
  int count = 0;
  std::string reason;  // why count is 0
};

// Asked once per process (the runtime fixes the device list, CUDA_VISIBLE_DEVICES included, when
// it initialises); never at static-initialisation time, so that merely loading the library (or
// listing the tests) does not touch the driver.
const DeviceCount& device_count() {
  static const DeviceCount result = [] {
    DeviceCount r;
    const cudaError_t status = cudaGetDeviceCount(&r.count);
    if (status != cudaSuccess) {
      (void)cudaGetLastError();
      r.count = 0;
      r.reason = std::string(cuda::error_name(status)) + ": " + cuda::error_string(status);
    } else if (r.count == 0) {
      r.reason = "the CUDA runtime reports no device";
    }
    return r;
  }();
  return result;
}

int attribute(cudaDeviceAttr attr, int device, const char* name) {
  int value = 0;
  cuda::check_cuda(cudaDeviceGetAttribute(&value, attr, device),
                   (std::string("cudaDeviceGetAttribute(") + name + ")").c_str());
  return value;
}

}  // namespace

bool cuda_built() { return true; }

int cuda_device_count() { return device_count().count; }

std::string cuda_unavailable_reason() { return device_count().reason; }

DeviceInfo cuda_device_info(int index) {
  const int count = cuda_device_count();
  check_argument(index >= 0 && index < count, "cuda_device_info", "index",
                 "is " + std::to_string(index) + ", expected 0 <= index < " +
                     std::to_string(count) + " (the CUDA devices found" +
                     (count == 0 ? ": none, " + cuda_unavailable_reason() : std::string()) + ")");
  cudaDeviceProp props{};
  cuda::check_cuda(cudaGetDeviceProperties(&props, index), "cudaGetDeviceProperties");
  DeviceInfo info;
  info.device = Device::cuda(index);
  info.name = props.name;
  info.total_memory = props.totalGlobalMem;
  // Attributes rather than cudaDeviceProp fields: stable across CUDA 12 and 13.
  info.compute_major = attribute(cudaDevAttrComputeCapabilityMajor, index, "ComputeCapabilityMajor");
  info.compute_minor = attribute(cudaDevAttrComputeCapabilityMinor, index, "ComputeCapabilityMinor");
  info.multiprocessors = attribute(cudaDevAttrMultiProcessorCount, index, "MultiProcessorCount");
  info.shared_memory_per_block_optin = static_cast<std::size_t>(
      attribute(cudaDevAttrMaxSharedMemoryPerBlockOptin, index, "MaxSharedMemoryPerBlockOptin"));
  info.shared_memory_per_multiprocessor = static_cast<std::size_t>(attribute(
      cudaDevAttrMaxSharedMemoryPerMultiprocessor, index, "MaxSharedMemoryPerMultiprocessor"));
  info.registers_per_multiprocessor =
      attribute(cudaDevAttrMaxRegistersPerMultiprocessor, index, "MaxRegistersPerMultiprocessor");
  info.max_threads_per_multiprocessor =
      attribute(cudaDevAttrMaxThreadsPerMultiProcessor, index, "MaxThreadsPerMultiProcessor");
  info.l2_cache_bytes =
      static_cast<std::size_t>(attribute(cudaDevAttrL2CacheSize, index, "L2CacheSize"));
  info.cooperative_launch = attribute(cudaDevAttrCooperativeLaunch, index, "CooperativeLaunch") != 0;
  return info;
}

}  // namespace gpurnn
