#include "cuda_status.h"

#include <string>

#include "gpurnn/error.h"

namespace gpurnn::cuda {

const char* error_name(cudaError_t status) {
  const char* name = cudaGetErrorName(status);
  return name != nullptr ? name : "unknown cudaError_t";
}

const char* error_string(cudaError_t status) {
  const char* text = cudaGetErrorString(status);
  return text != nullptr ? text : "unknown error";
}

void check_cuda(cudaError_t status, const char* call) {
  if (status == cudaSuccess) return;
  // Reset the runtime's last error (a no-op for sticky errors) so that it is reported once.
  (void)cudaGetLastError();
  const std::string message =
      std::string(call) + " failed: " + error_name(status) + ": " + error_string(status);
  throw Error(status == cudaErrorMemoryAllocation ? ErrorCode::out_of_memory
                                                  : ErrorCode::backend_error,
              message);
}

void check_cublas(cublasStatus_t status, const char* call) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  const char* name = cublasGetStatusName(status);
  const char* text = cublasGetStatusString(status);
  const std::string message = std::string(call) + " failed: " +
                              (name != nullptr ? name : "unknown cublasStatus_t") + ": " +
                              (text != nullptr ? text : "unknown error");
  throw Error(status == CUBLAS_STATUS_ALLOC_FAILED ? ErrorCode::out_of_memory
                                                   : ErrorCode::backend_error,
              message);
}

void check_launch(const char* kernel) {
  const cudaError_t status = cudaGetLastError();  // also clears it
  if (status == cudaSuccess) return;
  throw Error(status == cudaErrorMemoryAllocation ? ErrorCode::out_of_memory
                                                  : ErrorCode::backend_error,
              std::string(kernel) + " launch failed: " + error_name(status) + ": " +
                  error_string(status));
}

}  // namespace gpurnn::cuda
