#include "gpurnn/train/ops.h"
#include "train/cpu_train_ops.h"
#if defined(GPURNN_HAVE_CUDA)
#include "cuda/cuda_train_ops.h"
#endif

namespace gpurnn::train {

std::unique_ptr<TrainOps> make_train_ops(Device device) {
  if (device.is_cpu()) return make_cpu_train_ops();
#if defined(GPURNN_HAVE_CUDA)
  return cuda::make_cuda_train_ops(device);
#else
  throw Error(ErrorCode::unsupported, "make_train_ops: device '" + to_string(device) +
                                          "' is not available: this build has no CUDA");
#endif
}

}  // namespace gpurnn::train
