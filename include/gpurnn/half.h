#pragma once
// The two 16-bit floating-point element types, as storage: bfloat16 (1 sign, 8 exponent, 7
// fraction bits: float's range, 8 significant bits) and float16 (IEEE binary16: 1, 5, 10; 11
// significant bits, largest finite 65504, subnormals below 2^-14). Arithmetic happens in float:
// a value converts to float exactly, and a float or double converts to the nearest half value,
// ties to even, overflowing to ±inf, NaN staying NaN (quiet). Unit roundoff u (the largest
// relative error of one rounding of a normal value): 2^-8 for bfloat16, 2^-11 for float16.

#include <cstdint>
#include <type_traits>

namespace gpurnn {

// float/double -> 16-bit patterns and back; see the header comment for the rounding.
std::uint16_t bfloat16_bits_from(float v);
std::uint16_t bfloat16_bits_from(double v);
float float_from_bfloat16_bits(std::uint16_t bits);
std::uint16_t float16_bits_from(float v);
std::uint16_t float16_bits_from(double v);
float float_from_float16_bits(std::uint16_t bits);

struct bfloat16 {
  std::uint16_t bits = 0;
  bfloat16() = default;
  // From any arithmetic value, rounded as above (integers through double).
  template <class A, class = std::enable_if_t<std::is_arithmetic_v<A>>>
  explicit bfloat16(A v) : bits(bfloat16_bits_from(static_cast<std::conditional_t<std::is_same_v<A, float>, float, double>>(v))) {}
  static bfloat16 from_bits(std::uint16_t b) {
    bfloat16 h;
    h.bits = b;
    return h;
  }
  operator float() const { return float_from_bfloat16_bits(bits); }
};

struct float16 {
  std::uint16_t bits = 0;
  float16() = default;
  template <class A, class = std::enable_if_t<std::is_arithmetic_v<A>>>
  explicit float16(A v) : bits(float16_bits_from(static_cast<std::conditional_t<std::is_same_v<A, float>, float, double>>(v))) {}
  static float16 from_bits(std::uint16_t b) {
    float16 h;
    h.bits = b;
    return h;
  }
  operator float() const { return float_from_float16_bits(bits); }
};

// Whether T is an element type holding real numbers: float, double, bfloat16, float16.
template <class T>
inline constexpr bool is_real_v = std::is_floating_point_v<T> || std::is_same_v<T, bfloat16> ||
                                  std::is_same_v<T, float16>;
template <class T>
inline constexpr bool is_half_v = std::is_same_v<T, bfloat16> || std::is_same_v<T, float16>;

}  // namespace gpurnn
