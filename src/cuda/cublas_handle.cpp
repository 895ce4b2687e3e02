#include "cuda/cublas_handle.h"

#include <cstddef>
#include <string>
#include <vector>

#include "cuda/cuda_status.h"
#include "cuda/device_guard.h"
#include "gpurnn/error.h"

namespace gpurnn::cuda {
namespace {

// This thread's handles, indexed by device; destroyed when the thread exits (for the main
// thread: at exit(), before static destructors and the CUDA runtime's own teardown).
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
      if (cudaSetDevice(static_cast<int>(device)) == cudaSuccess) {
        (void)cublasDestroy(handles_[device]);
      }
      if (have_previous) (void)cudaSetDevice(previous);
      (void)cudaGetLastError();
    }
  }

  cublasHandle_t get(int device) {
    if (device < 0) {
      throw Error(ErrorCode::invalid_argument,
                  "cublas_handle_for: argument 'device' is " + std::to_string(device) +
                      ", expected a CUDA device ordinal >= 0");
    }
    const auto index = static_cast<std::size_t>(device);
    if (index < handles_.size() && handles_[index] != nullptr) return handles_[index];
    DeviceGuard guard(device);  // cublasCreate binds the handle to the current device
    cublasHandle_t handle = nullptr;
    GPURNN_CUBLAS_CHECK(cublasCreate(&handle));
    if (index >= handles_.size()) handles_.resize(index + 1, nullptr);
    handles_[index] = handle;
    return handle;
  }

 private:
  std::vector<cublasHandle_t> handles_;
};

thread_local ThreadHandles thread_handles;

}  // namespace

cublasHandle_t cublas_handle_for(int device) { return thread_handles.get(device); }

CublasStreamScope::CublasStreamScope(cublasHandle_t handle, cudaStream_t stream) : handle_(handle) {
  GPURNN_CUBLAS_CHECK(cublasGetStream(handle_, &previous_stream_));
  GPURNN_CUBLAS_CHECK(cublasGetPointerMode(handle_, &previous_mode_));
  GPURNN_CUBLAS_CHECK(cublasSetStream(handle_, stream));
  const cublasStatus_t status = cublasSetPointerMode(handle_, CUBLAS_POINTER_MODE_HOST);
  if (status != CUBLAS_STATUS_SUCCESS) {
    (void)cublasSetStream(handle_, previous_stream_);  // the destructor will not run
    check_cublas(status, "cublasSetPointerMode(handle, CUBLAS_POINTER_MODE_HOST)");
  }
}

CublasStreamScope::~CublasStreamScope() {
  // Setting a stream or mode the handle already had does not fail short of runtime teardown,
  // and a destructor cannot report it.
  (void)cublasSetPointerMode(handle_, previous_mode_);
  (void)cublasSetStream(handle_, previous_stream_);
}

}  // namespace gpurnn::cuda
