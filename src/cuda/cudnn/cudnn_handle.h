#pragma once
// cuDNN handles (internal header), like cublas_handle.h:
//
//   cudnnHandle_t h = cuda::cudnn_handle_for(device);   // this thread's handle for `device`
//   cuda::CudnnStreamScope scope(h, stream);            // h runs on `stream` until scope's end
//
// One handle per (host thread, device), created on first use with that device current and
// destroyed when the thread exits; never shared between threads, so no locking.

#include <cuda_runtime.h>
#include <cudnn.h>

namespace gpurnn::cuda {

// Error(invalid_argument) for a negative device; cuDNN's failures as cudnn_status.h says.
cudnnHandle_t cudnn_handle_for(int device);

// RAII: sets the handle's stream; the destructor restores the one it had.
class CudnnStreamScope {
 public:
  CudnnStreamScope(cudnnHandle_t handle, cudaStream_t stream);
  ~CudnnStreamScope();
  CudnnStreamScope(const CudnnStreamScope&) = delete;
  CudnnStreamScope& operator=(const CudnnStreamScope&) = delete;

  cudnnHandle_t handle() const { return handle_; }

 private:
  cudnnHandle_t handle_;
  cudaStream_t previous_stream_ = nullptr;
};

}  // namespace gpurnn::cuda
