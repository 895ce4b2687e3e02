#pragma once
// The cpu TrainOps: OpenBLAS for the products, plain loops for the rest. The reference the
// cuda TrainOps is checked against.

#include <memory>

#include "gpurnn/train/ops.h"

namespace gpurnn::train {

std::unique_ptr<TrainOps> make_cpu_train_ops();

}  // namespace gpurnn::train
