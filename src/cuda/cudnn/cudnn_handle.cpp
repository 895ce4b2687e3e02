#include "cuda/cudnn/cudnn_handle.h"

#include "cuda/cudnn/cudnn_status.h"
#include "cuda/per_thread_handles.h"
#include "gpurnn/error.h"

namespace gpurnn::cuda {
namespace {

struct CudnnHandleTraits {
  static constexpr const char* where = "cudnn_handle_for";
  static cudnnHandle_t create() {
    cudnnHandle_t handle = nullptr;
    GPURNN_CUDNN_CHECK(cudnnCreate(&handle));
    return handle;
  }
  static void destroy(cudnnHandle_t handle) { (void)cudnnDestroy(handle); }
};

thread_local PerThreadHandles<cudnnHandle_t, CudnnHandleTraits> thread_handles;

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
