#pragma once
// cuBLAS handles (internal header).
//
//   cublasHandle_t h = cuda::cublas_handle_for(device);   // this thread's handle for `device`
//   cuda::CublasStreamScope scope(h, stream);             // h runs on `stream`, host pointer mode
//   GPURNN_CUBLAS_CHECK(cublasSgemm(h, ...));
//                                                         // scope's end: stream and mode restored
//
// One handle per (host thread, device), created on first use with that device current and
// destroyed when the thread exits; a handle is never shared between threads, so no locking is
// needed. Every call that uses one sets its stream through a CublasStreamScope, so a handle
// carries no state from one library call to the next.

#include <cublas_v2.h>
#include <cuda_runtime.h>

namespace gpurnn::cuda {

// Throws Error(backend_error) for a device that cannot be made current, Error(out_of_memory)
// when cuBLAS cannot allocate its resources.
cublasHandle_t cublas_handle_for(int device);

// RAII: sets the handle's stream and CUBLAS_POINTER_MODE_HOST (alpha and beta are host
// scalars); the destructor restores the stream and pointer mode the handle had before.
class CublasStreamScope {
 public:
  CublasStreamScope(cublasHandle_t handle, cudaStream_t stream);
  ~CublasStreamScope();
  CublasStreamScope(const CublasStreamScope&) = delete;
  CublasStreamScope& operator=(const CublasStreamScope&) = delete;

  cublasHandle_t handle() const { return handle_; }

 private:
  cublasHandle_t handle_;
  cudaStream_t previous_stream_ = nullptr;
  cublasPointerMode_t previous_mode_ = CUBLAS_POINTER_MODE_HOST;
};

}  // namespace gpurnn::cuda
