#pragma once
// The cpu platform's batch uploader: the host batch, handed through where it is.

#include <memory>

#include "platform/batch_uploader.h"

namespace gpurnn::cpu {

std::unique_ptr<train::BatchUploader> make_host_batch_uploader(Device device);

}  // namespace gpurnn::cpu
