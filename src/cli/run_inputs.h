#pragma once
// The .npy inputs of `gpurnn run` (--input, --h0, --c0, --lengths) as the forward call takes them.
// `flag` names the file's flag in every error.

#include <string>

#include "gpurnn/tensor.h"

namespace gpurnn::cli {

// A float16, float32 or float64 array converted to `dtype` (as stored when it is `dtype`);
// Error(invalid_argument) for an integer array.
Tensor read_floating_npy(const std::string& path, const char* flag, DType dtype);

// Lengths as int32 from an int32 or int64 array (the shape is the forward call's to check);
// Error(invalid_argument) for another dtype or an int64 value outside [0, 2^31 - 1].
Tensor read_lengths_npy(const std::string& path, const char* flag);

}  // namespace gpurnn::cli
