#pragma once
// The cuda backend, algorithm "standard": cuBLAS GEMMs and one fused kernel per step.

#include <memory>

#include "gpurnn/backend.h"

namespace gpurnn::cuda {

// Throws Error(unsupported) when the device does not exist.
std::unique_ptr<Backend> make_cuda_backend(Device device, const BackendOptions& options);

}  // namespace gpurnn::cuda
