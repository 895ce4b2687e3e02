#pragma once
// The virtual devices' TrainOps (gpurnn/train/ops.h): the device checks every platform shares
// (platform/train_op_checks.h), then the cpu TrainOps on the read-write aliases of the tensors.

#include <memory>

#include "gpurnn/train/ops.h"

namespace gpurnn::vdev {

std::unique_ptr<train::TrainOps> make_virtual_train_ops(Device device);

}  // namespace gpurnn::vdev
