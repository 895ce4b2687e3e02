// The persistent plan's device limits, from cudaGetDeviceProperties.

#include "kernels/cuda_status.h"
#include "cuda/device_limits.h"

namespace gpurnn::cuda {

engine::DeviceLimits device_limits(int index) {
  cudaDeviceProp prop{};
  GPURNN_CUDA_CHECK(cudaGetDeviceProperties(&prop, index));
  engine::DeviceLimits d;
  d.name = prop.name;
  d.sm_count = prop.multiProcessorCount;
  d.shared_per_block_optin = prop.sharedMemPerBlockOptin;
  d.registers_per_block = prop.regsPerBlock;
  d.max_threads_per_block = prop.maxThreadsPerBlock;
  d.cooperative_launch = prop.cooperativeLaunch != 0;
  return d;
}

}  // namespace gpurnn::cuda
