#pragma once
// RAII: makes a CUDA device current for a scope and restores the caller's device after it
// (internal header). Every host function that touches a tensor's memory or launches on a
// device starts with one, so the library never leaves the caller's current device changed.
//
//   {
//     cuda::DeviceGuard guard(tensor.device().index);
//     ... cudaMallocAsync / kernel launches on that device ...
//   }  // the caller's device is current again

#include <cuda_runtime.h>

#include "kernels/cuda_status.h"

namespace gpurnn::cuda {

class DeviceGuard {
 public:
  // Throws Error(backend_error) when the device cannot be made current.
  explicit DeviceGuard(int device) {
    GPURNN_CUDA_CHECK(cudaGetDevice(&previous_));
    if (previous_ != device) {
      GPURNN_CUDA_CHECK(cudaSetDevice(device));
      changed_ = true;
    }
  }
  ~DeviceGuard() {
    // A destructor cannot throw; restoring a device that was current a moment ago only fails
    // when the runtime is being torn down.
    if (changed_ && cudaSetDevice(previous_) != cudaSuccess) (void)cudaGetLastError();
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

  int previous() const { return previous_; }

 private:
  int previous_ = 0;
  bool changed_ = false;
};

}  // namespace gpurnn::cuda
