#include "cuda/cudnn/cudnn_handle.h"

#include <cstddef>
#include <string>
#include <vector>

#include "cuda/cudnn/cudnn_status.h"
#include "cuda/device_guard.h"
#include "gpurnn/error.h"

namespace gpurnn::cuda {
namespace {

// This thread's handles, indexed by device; destroyed when the thread exits.
class ThreadHandles {
 public:
  ThreadHandles() = default;
  ThreadHandles(const ThreadHandles&) = delete;
  ThreadHandles& operator=(const ThreadHandles&) = delete;
  ~ThreadHandles() {
    for (std::size_t device = 0; device < handles_.size(); ++device) {
      if (handles_[device] == nullptr) continue;
      // Best effort and silent: nothing can be reported from here.
      int previous = 0;
      const bool have_previous = cudaGetDevice(&previous) == cudaSuccess;
      if (cudaSetDevice(static_cast<int>(device)) == cudaSuccess) (void)cudnnDestroy(handles_[device]);
      if (have_previous) (void)cudaSetDevice(previous);
      (void)cudaGetLastError();
    }
  }

  cudnnHandle_t get(int device) {
    check_argument(device >= 0, "cudnn_handle_for", "device",
                   "is " + std::to_string(device) + ", expected a CUDA device ordinal >= 0");
    const auto index = static_cast<std::size_t>(device);
    if (index < handles_.size() && handles_[index] != nullptr) return handles_[index];
    DeviceGuard guard(device);  // cudnnCreate binds the handle to the current device
    cudnnHandle_t handle = nullptr;
    GPURNN_CUDNN_CHECK(cudnnCreate(&handle));
    if (index >= handles_.size()) handles_.resize(index + 1, nullptr);
    handles_[index] = handle;
    return handle;
  }

 private:
  std::vector<cudnnHandle_t> handles_;
};

thread_local ThreadHandles thread_handles;

}  // namespace

cudnnHandle_t cudnn_handle_for(int device) { return thread_handles.get(device); }

CudnnStreamScope::CudnnStreamScope(cudnnHandle_t handle, cudaStream_t stream) : handle_(handle) {
  GPURNN_CUDNN_CHECK(cudnnGetStream(handle_, &previous_stream_));
  GPURNN_CUDNN_CHECK(cudnnSetStream(handle_, stream));
}

CudnnStreamScope::~CudnnStreamScope() {
  // Restoring a stream the handle had a moment ago does not fail short of runtime teardown.
  (void)cudnnSetStream(handle_, previous_stream_);
}

}  // namespace gpurnn::cuda
