#pragma once
// One library handle (cuBLAS, cuDNN) per device per thread: created on first use with that
// device current (the libraries bind a handle to the current device), destroyed when the thread
// exits (for the main thread: at exit(), before static destructors and the CUDA runtime's own
// teardown).
//
//   struct CublasHandleTraits {
//     static constexpr const char* where = "cublas_handle_for";
//     static cublasHandle_t create();        // throws Error on failure
//     static void destroy(cublasHandle_t);   // best effort, silent
//   };
//   thread_local PerThreadHandles<cublasHandle_t, CublasHandleTraits> handles;

#include <cuda_runtime.h>

#include <cstddef>
#include <string>
#include <vector>

#include "cuda/device_guard.h"
#include "gpurnn/error.h"

namespace gpurnn::cuda {

template <class Handle, class Traits>
class PerThreadHandles {
 public:
  PerThreadHandles() = default;
  PerThreadHandles(const PerThreadHandles&) = delete;
  PerThreadHandles& operator=(const PerThreadHandles&) = delete;
  ~PerThreadHandles() {
    for (std::size_t device = 0; device < handles_.size(); ++device) {
      if (handles_[device] == nullptr) continue;
      // Best effort and silent: nothing can be reported from here.
      int previous = 0;
      const bool have_previous = cudaGetDevice(&previous) == cudaSuccess;
      if (cudaSetDevice(static_cast<int>(device)) == cudaSuccess) Traits::destroy(handles_[device]);
      if (have_previous) (void)cudaSetDevice(previous);
      (void)cudaGetLastError();
    }
  }

  Handle get(int device) {
    check_argument(device >= 0, Traits::where, "device",
                   "is " + std::to_string(device) + ", expected a CUDA device ordinal >= 0");
    const auto index = static_cast<std::size_t>(device);
    if (index < handles_.size() && handles_[index] != nullptr) return handles_[index];
    DeviceGuard guard(device);
    Handle handle = Traits::create();
    if (index >= handles_.size()) handles_.resize(index + 1, nullptr);
    handles_[index] = handle;
    return handle;
  }

 private:
  std::vector<Handle> handles_;
};

}  // namespace gpurnn::cuda
