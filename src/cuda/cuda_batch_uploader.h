#pragma once
// The cuda BatchUploader: pinned double-buffered staging, a copy stream and events.

#include <memory>

#include "platform/batch_uploader.h"

namespace gpurnn::cuda {

std::unique_ptr<train::BatchUploader> make_cuda_batch_uploader(Device device);

}  // namespace gpurnn::cuda
