#include "cuda/cublas_handle.h"

#include "kernels/cuda_status.h"
#include "cuda/per_thread_handles.h"
#include "gpurnn/error.h"

namespace gpurnn::cuda {
namespace {

struct CublasHandleTraits {
  static constexpr const char* where = "cublas_handle_for";
  static cublasHandle_t create() {
    cublasHandle_t handle = nullptr;
    GPURNN_CUBLAS_CHECK(cublasCreate(&handle));
    return handle;
  }
  static void destroy(cublasHandle_t handle) { (void)cublasDestroy(handle); }
};

thread_local PerThreadHandles<cublasHandle_t, CublasHandleTraits> thread_handles;

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
