// The CUDA entry points of a build without CUDA (compiled only when GPURNN_CUDA is off or
// nvcc was not found; with CUDA, src/cuda/device_info.cpp defines them).

#include <string>

#include "gpurnn/device.h"
#include "gpurnn/error.h"

namespace gpurnn {

bool cuda_built() { return false; }

int cuda_device_count() { return 0; }

std::string cuda_unavailable_reason() { return "this build has no CUDA"; }

DeviceInfo cuda_device_info(int index) {
  check_argument(false, "cuda_device_info", "index",
                 [&] { return "is " + std::to_string(index) + ", but this build has no CUDA (no devices)"; });
  return {};
}

}  // namespace gpurnn
