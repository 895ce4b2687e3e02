#pragma once
// The launchers of kernels/half_kernels.cu: the conversions a bf16 or f16 call on CUDA needs by
// the precision rule of the README ("Half precision"; engine/half_calls.h): widening the
// caller's half tensors into the f32 workspace, narrowing the results back, and rounding f32
// values to the nearest half value in place. Every conversion from f32 rounds to nearest, ties
// to even, as the CPU's (core/half_arrays.h) does; widening is exact. Each queues its kernel on
// `stream`; none synchronises. `half` is DType::bf16 or DType::f16.

#include <cuda_runtime.h>

#include <cstdint>

#include "gpurnn/dtype.h"

namespace gpurnn::cuda {

// dst[k] = float(src[k]) for k < n; src holds n values of `half`.
void launch_widen_half(DType half, const void* src, float* dst, std::int64_t n, cudaStream_t stream);
// dst[k] = src[k] rounded to `half`.
void launch_narrow_to_half(DType half, const float* src, void* dst, std::int64_t n, cudaStream_t stream);
// values[k] = float(values[k] rounded to `half`).
void launch_round_to_half(DType half, float* values, std::int64_t n, cudaStream_t stream);

}  // namespace gpurnn::cuda
