#pragma once
// The 1-D launch of the element-wise training kernels: ceil(count / 256) blocks of 256 threads
// (kernels/launch_shape.h), thread `global_index()` owning element global_index(), the launch
// checked. (elementwise_kernels.cu and step_kernels.cu keep private copies of the same two
// helpers; they could include this one.)

#include <cuda_runtime.h>

#include <cstdint>

#include "cuda_status.h"
#include "launch_shape.h"

namespace gpurnn::cuda {

__device__ __forceinline__ std::int64_t global_index() {
  return static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}

// Launches kernel(args...) over `count` elements on `stream` (nothing when count is 0).
template <class Kernel, class... Args>
void launch_linear(Kernel kernel, std::int64_t count, cudaStream_t stream, const char* name,
                   Args... args) {
  if (count <= 0) return;
  const kernels::LinearLaunch shape = kernels::linear_launch(count);
  kernel<<<static_cast<unsigned>(shape.blocks), shape.threads, 0, stream>>>(args...);
  check_launch(name);
}

}  // namespace gpurnn::cuda
