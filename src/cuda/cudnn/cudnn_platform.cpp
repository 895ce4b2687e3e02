// The cudnn platform's entry in the list of platforms (src/platform/platform_registry.cpp): the
// cudnn backend on a CUDA device, whose services (training ops, storage) are the cuda platform's.

#include "cuda/cudnn/cudnn_backend.h"
#include "cuda/cudnn/cudnn_rules.h"
#include "platform/platform.h"

namespace gpurnn::cuda {

platform::Platform cudnn_platform() {
  platform::Platform p;
  p.name = "cudnn";
  p.device_kind = DeviceKind::cuda;
  p.present = [] { return cuda_device_count() > 0; };
  p.algorithms = [] { return cudnn_algorithm_names(); };
  p.make_backend = make_cudnn_backend;
  return p;
}

}  // namespace gpurnn::cuda
