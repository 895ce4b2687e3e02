#pragma once
// The cuda backend. Algorithms (BackendOptions::algorithm): "standard" (the default: cuBLAS GEMMs
// and one fused kernel per step), "persistent" (LSTM: one cooperative kernel per layer direction
// runs every step; Error(unsupported) naming the limit when its plan does not fit) and "auto"
// (persistent when it fits and the batch is small, else standard). Backward is the standard
// algorithm's for all three: the persistent forward fills the same reserve.

#include <memory>

#include "gpurnn/backend.h"

namespace gpurnn::cuda {

// Throws Error(unsupported) when the device does not exist.
std::unique_ptr<Backend> make_cuda_backend(Device device, const BackendOptions& options);

}  // namespace gpurnn::cuda
