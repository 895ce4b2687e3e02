// The cuda platform's entry in the list of platforms (src/platform/platform_registry.cpp): the
// cuda backend and its algorithms, and the CUDA device's services (training ops, the
// double-buffered batch uploader, the stream-ordered tensor storage).

#include "cuda/cuda_backend.h"
#include "cuda/cuda_batch_uploader.h"
#include "cuda/cuda_train_ops.h"
#include "cuda/device_storage.h"
#include "platform/platform.h"

namespace gpurnn::cuda {

platform::Platform cuda_platform() {
  platform::Platform p;
  p.name = "cuda";
  p.device_kind = DeviceKind::cuda;
  p.present = [] { return cuda_device_count() > 0; };
  p.algorithms = [] {
    return std::vector<std::string>{"standard",
                                    "persistent",
                                    "persistent_sequential_directions",
                                    "persistent_full_reduce",
                                    "persistent_elementwise_stage",
                                    "auto"};
  };
  p.make_backend = make_cuda_backend;
  p.owns_device = true;
  p.make_train_ops = make_cuda_train_ops;
  p.make_batch_uploader = make_cuda_batch_uploader;
  p.storage = &device_storage();
  return p;
}

}  // namespace gpurnn::cuda
