#pragma once
// What engine::plan_persistent_lstm needs of cudaDeviceProp (src/cuda/device_limits.cpp).

#include "engine/persistent_plan.h"

namespace gpurnn::cuda {

// The limits of CUDA device `index`.
engine::DeviceLimits device_limits(int index);

}  // namespace gpurnn::cuda
