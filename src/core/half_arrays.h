#pragma once
// Whole arrays between a half dtype (bf16, f16) and f32, rounded as half.h says. The bf16 loops
// are bit operations the compiler vectorises; f16 is converted element by element (correct, not
// fast: the CPU computes f16 in f32).

#include <cstdint>

#include "gpurnn/dtype.h"

namespace gpurnn::detail {

// dst[k] = the float of src[k], a `half` (bf16 or f16) array; exact.
void widen_half(DType half, const void* src, float* dst, std::int64_t n);
// dst[k] = src[k] rounded to `half`.
void narrow_to_half(DType half, const float* src, void* dst, std::int64_t n);
// values[k] = values[k] rounded to `half`, kept as float (the value a half GEMM operand holds).
void round_to_half(DType half, float* values, std::int64_t n);

}  // namespace gpurnn::detail
