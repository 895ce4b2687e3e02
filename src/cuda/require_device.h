#pragma once
// The check every CUDA object of the training layer makes when it is built (internal header).

#include <string>

#include "gpurnn/device.h"
#include "gpurnn/error.h"

namespace gpurnn::cuda {

// Error(invalid_argument) for the cpu device, Error(unsupported) for a CUDA device this machine
// lacks. `where` names the factory ("make_train_ops").
inline void require_cuda_device(Device device, const char* where) {
  check_argument(!device.is_cpu(), where, "device", "must be a CUDA device, got cpu");
  const int count = cuda_device_count();
  if (device.index < 0 || device.index >= count) {
    throw Error(ErrorCode::unsupported,
                std::string(where) + ": device " + to_string(device) + " is not present (" +
                    std::to_string(count) + " CUDA devices found" +
                    (count == 0 ? ": " + cuda_unavailable_reason() : std::string()) + ")");
  }
}

}  // namespace gpurnn::cuda
