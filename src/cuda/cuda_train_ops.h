#pragma once
// The cuda TrainOps: cuBLAS for the products, kernels/train_kernels.cu for the rest.

#include <memory>

#include "gpurnn/train/ops.h"

namespace gpurnn::cuda {

// Error(unsupported) when `device` does not exist.
std::unique_ptr<train::TrainOps> make_cuda_train_ops(Device device);

}  // namespace gpurnn::cuda
