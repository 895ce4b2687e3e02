#include "cuda/cudnn/cudnn_status.h"

#include <string>

#include "gpurnn/error.h"

namespace gpurnn::cuda {

void check_cudnn(cudnnStatus_t status, const char* call) {
  if (status == CUDNN_STATUS_SUCCESS) return;
  const char* text = cudnnGetErrorString(status);
  std::string message = std::string(call) + " failed: " + (text != nullptr ? text : "unknown cudnnStatus_t") +
                        " (" + std::to_string(static_cast<int>(status)) + ")";
  char detail[512] = {0};
  cudnnGetLastErrorString(detail, sizeof(detail));  // also clears it
  if (detail[0] != '\0') message += ": " + std::string(detail);

  const int category = CUDNN_STATUS_CATEGORY(static_cast<int>(status));
  if (category == CUDNN_STATUS_NOT_SUPPORTED) {
    throw Error(ErrorCode::unsupported, "not supported by cuDNN: " + message);
  }
  if (status == CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED ||
      status == CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED) {
    throw Error(ErrorCode::out_of_memory, message);
  }
  throw Error(ErrorCode::backend_error, message);
}

}  // namespace gpurnn::cuda
