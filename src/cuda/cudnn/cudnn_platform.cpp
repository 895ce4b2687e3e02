// The cudnn platform's entry in the list of platforms (src/platform/platform_registry.cpp): the
// cudnn backend on a CUDA device, whose services (training ops, storage) are the cuda platform's.

#include <cudnn.h>

#include <cstddef>

#include "cuda/cudnn/cudnn_backend.h"
#include "cuda/cudnn/cudnn_rules.h"
#include "platform/platform.h"

namespace gpurnn::cuda {
namespace {

// The cuDNN library loaded ("9.19.0"); needs no device. cudnnGetVersion() is major * 10000 +
// minor * 100 + patch since cuDNN 9 (major * 1000 + minor * 100 + patch before).
std::string loaded_cudnn_version() {
  const std::size_t v = cudnnGetVersion();
  const std::size_t major = v >= 90000 ? v / 10000 : v / 1000;
  const std::size_t minor = v >= 90000 ? v / 100 % 100 : v / 100 % 10;
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(v % 100);
}

}  // namespace

platform::Platform cudnn_platform() {
  platform::Platform p;
  p.name = "cudnn";
  p.device_kind = DeviceKind::cuda;
  p.present = [] { return cuda_device_count() > 0; };
  p.algorithms = [] { return cudnn_algorithm_names(); };
  p.make_backend = make_cudnn_backend;
  p.library_version = loaded_cudnn_version;
  return p;
}

}  // namespace gpurnn::cuda
