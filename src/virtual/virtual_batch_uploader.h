#pragma once
// The virtual devices' batch uploader: copies a host batch's inputs and targets to new tensors
// on the device (really copies: host code cannot read them there), keeps the lengths on the host
// for the Backend calls and puts a device copy beside them for the kernels that mask.

#include <memory>

#include "platform/batch_uploader.h"

namespace gpurnn::vdev {

std::unique_ptr<train::BatchUploader> make_virtual_batch_uploader(Device device);

}  // namespace gpurnn::vdev
