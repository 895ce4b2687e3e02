#pragma once
// exp, tanh and sigmoid for f32 written so that GCC and Clang vectorise a loop that calls them:
// plain arithmetic, integer bit operations and selects, no branches, no libm calls. Used by
// the CPU backend's f32 pointwise rows (cpu_rows_f32.cpp); the CUDA kernels and f64 keep libm.
//
// Method and accuracy (measured against f64 libm over a dense sweep of every f32 range in
// tests/cpu/vector_math_test.cpp; the bounds asserted there are the ones quoted here):
// - exp_f32: x = n ln2 + r, |r| <= ln2/2 (ln2 split in two parts, Cody-Waite), e^r by its
//   Taylor polynomial of degree 7 (truncation < 0.1 ulp), times 2^n built in the exponent bits
//   in two halves so that results in the subnormal range and up to FLT_MAX are right.
//   At most 2 ulp. exp(+inf) = inf, exp(-inf) = 0, overflow gives inf, NaN stays NaN.
// - tanh_f32: |x| < 0.625: x + x^3 Q(x^2), Q of degree 4 fitted (weighted least squares, in
//   relative error) for this library; else 1 - 2 / (exp(2|x|) + 1). Sign restored from x, so
//   tanh(-0) = -0. At most 2 ulp; tanh(±inf) = ±1, NaN stays NaN.
// - sigmoid_f32: 1 / (1 + exp(-x)), the same formula as detail::sigmoid. At most 3 ulp
//   where the result is normal; 0 below x ≈ -88.7 as the libm formula gives.
// No FMA is used (ISO C++ mode turns contraction off), so every vector width returns exactly
// the same bits as the scalar code.

#include <cstdint>
#include <cstring>

// Forced inline: a loop with several calls would otherwise keep some of them out of line,
// and a call in the loop stops vectorisation.
#if defined(__GNUC__)
#define GPURNN_VMATH_INLINE inline __attribute__((always_inline))
#else
#define GPURNN_VMATH_INLINE inline
#endif

namespace gpurnn::cpu::vmath {

GPURNN_VMATH_INLINE std::uint32_t bits_of(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

GPURNN_VMATH_INLINE float float_of(std::uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

// 2^k for -126 <= k <= 127, built in the exponent field.
GPURNN_VMATH_INLINE float pow2_f32(std::int32_t k) {
  return float_of(static_cast<std::uint32_t>(k + 127) << 23);
}

GPURNN_VMATH_INLINE float exp_f32(float x) {
  // Below -104 the result rounds to 0; above 89 it overflows. Clamping keeps n in [-150, 128]
  // (NaN fails both comparisons and flows through as NaN).
  x = x < -104.0f ? -104.0f : x;
  x = x > 89.0f ? 89.0f : x;
  // n = round(x / ln2): adding 1.5 * 2^23 rounds to an integer kept in the low mantissa bits.
  const float shifter = 12582912.0f;
  const float t = x * 1.44269504088896341f + shifter;
  const float n = t - shifter;
  const std::int32_t k = static_cast<std::int32_t>(bits_of(t) - bits_of(shifter));
  // r = x - n ln2 with ln2 = 0.693359375 (exact in 9 bits, so n * it is exact) - 2.12194440e-4.
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  // 2^k in two factors, each a normal number: one rounding, in the last multiply.
  const std::int32_t k1 = k >> 1;
  return (p * pow2_f32(k1)) * pow2_f32(k - k1);
}

GPURNN_VMATH_INLINE float tanh_f32(float x) {
  const std::uint32_t sign = bits_of(x) & 0x80000000u;
  const float a = float_of(bits_of(x) & 0x7fffffffu);
  // Small |x|: odd polynomial (no cancellation near 0; x^3 underflows away for tiny x).
  const float s = a * a;
  float q = -0.005704985931515694f;
  q = q * s + 0.02063908614218235f;
  q = q * s + -0.05373971536755562f;
  q = q * s + 0.13331441581249237f;
  q = q * s + -0.3333328068256378f;
  const float small = a + (a * s) * q;
  // Large |x|: 2 / (e^{2|x|} + 1) <= 0.45, so the subtraction loses nothing.
  const float large = 1.0f - 2.0f / (exp_f32(2.0f * a) + 1.0f);
  const float magnitude = a < 0.625f ? small : large;
  return float_of(bits_of(magnitude) | sign);
}

GPURNN_VMATH_INLINE float sigmoid_f32(float x) { return 1.0f / (1.0f + exp_f32(-x)); }

}  // namespace gpurnn::cpu::vmath
