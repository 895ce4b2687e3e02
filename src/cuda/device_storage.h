#pragma once
// The CUDA platform's tensor storage (src/cuda/device_storage.cpp): one stream-ordered memory
// pool per device.

#include "core/device_allocator.h"

namespace gpurnn::cuda {

const detail::DeviceStorage& device_storage();

}  // namespace gpurnn::cuda
