// The half-precision conversions of kernels/half_kernels.h.
//
// Launch shape: 1-D grids of ceil(n / 256) blocks of 256 threads (kernels/launch_shape.h);
// thread k converts element k and touches nothing else. Round to nearest even: __float2bfloat16_rn
// and __float2half_rn, the rounding of the CPU's conversions (core/bf16_rounding.h, F16C).

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "gpurnn/error.h"
#include "half_kernels.h"
#include "launch_linear.cuh"

namespace gpurnn::cuda {
namespace {

// The device type of a half dtype and its two conversions.
struct Bf16 {
  using type = __nv_bfloat16;
  static __device__ __forceinline__ float widen(type v) { return __bfloat162float(v); }
  static __device__ __forceinline__ type narrow(float v) { return __float2bfloat16_rn(v); }
};
struct F16 {
  using type = __half;
  static __device__ __forceinline__ float widen(type v) { return __half2float(v); }
  static __device__ __forceinline__ type narrow(float v) { return __float2half_rn(v); }
};

// Grid: n threads; thread k writes dst[k] = src[k] widened.
template <class H>
__global__ void widen_kernel(const typename H::type* src, float* dst, std::int64_t n) {
  const std::int64_t k = global_index();
  if (k < n) dst[k] = H::widen(src[k]);
}

// Grid: n threads; thread k writes dst[k] = src[k] rounded to the half type.
template <class H>
__global__ void narrow_kernel(const float* src, typename H::type* dst, std::int64_t n) {
  const std::int64_t k = global_index();
  if (k < n) dst[k] = H::narrow(src[k]);
}

// Grid: n threads; thread k rounds values[k] to the half type and back, in place.
template <class H>
__global__ void round_kernel(float* values, std::int64_t n) {
  const std::int64_t k = global_index();
  if (k < n) values[k] = H::widen(H::narrow(values[k]));
}

// Calls f(H{}) with the conversion type of `half`; Error(invalid_argument) for another dtype.
template <class F>
void with_half_type(DType half, const char* where, F f) {
  if (half == DType::bf16) return f(Bf16{});
  if (half == DType::f16) return f(F16{});
  throw Error(ErrorCode::invalid_argument,
              std::string(where) + ": expected a half dtype (bf16 or f16), got " + to_string(half));
}

}  // namespace

void launch_widen_half(DType half, const void* src, float* dst, std::int64_t n, cudaStream_t stream) {
  with_half_type(half, "launch_widen_half", [&](auto h) {
    using H = decltype(h);
    launch_linear(widen_kernel<H>, n, stream, "widen_kernel", static_cast<const typename H::type*>(src), dst, n);
  });
}

void launch_narrow_to_half(DType half, const float* src, void* dst, std::int64_t n, cudaStream_t stream) {
  with_half_type(half, "launch_narrow_to_half", [&](auto h) {
    using H = decltype(h);
    launch_linear(narrow_kernel<H>, n, stream, "narrow_kernel", src, static_cast<typename H::type*>(dst), n);
  });
}

void launch_round_to_half(DType half, float* values, std::int64_t n, cudaStream_t stream) {
  with_half_type(half, "launch_round_to_half", [&](auto h) {
    using H = decltype(h);
    launch_linear(round_kernel<H>, n, stream, "round_kernel", values, n);
  });
}

}  // namespace gpurnn::cuda
