#include "gpurnn/half.h"

#include "core/bf16_rounding.h"

#include <cmath>
#include <cstring>

namespace gpurnn {
namespace {

std::uint32_t bits_of(float v) {
  std::uint32_t u;
  std::memcpy(&u, &v, sizeof u);
  return u;
}

float float_of(std::uint32_t u) {
  float v;
  std::memcpy(&v, &u, sizeof v);
  return v;
}

// double -> float rounded to odd: the nearest float toward zero, its last bit set when inexact.
// Rounding that float to a format of at most 22 significant bits gives what rounding the double
// to that format directly gives (no double rounding).
float round_to_odd_float(double v) {
  float f = static_cast<float>(v);
  if (std::isnan(v) || static_cast<double>(f) == v) return f;
  if (std::fabs(static_cast<double>(f)) > std::fabs(v)) f = std::nextafter(f, 0.0f);
  return float_of(bits_of(f) | 1u);
}

}  // namespace

std::uint16_t bfloat16_bits_from(float v) { return detail::bf16_bits_nearest(v); }

std::uint16_t bfloat16_bits_from(double v) { return bfloat16_bits_from(round_to_odd_float(v)); }

float float_from_bfloat16_bits(std::uint16_t bits) { return float_of(static_cast<std::uint32_t>(bits) << 16); }

std::uint16_t float16_bits_from(float v) {
  const std::uint32_t u = bits_of(v);
  const std::uint32_t sign = (u >> 16) & 0x8000u;
  const std::uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7e00u | ((a >> 13) & 0x3ffu));  // quiet NaN
  if (a >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // >= 65520: inf
  if (a >= 0x38800000u) {  // a normal half (>= 2^-14): rebias the exponent, round 13 bits away
    std::uint32_t r = a - 0x38000000u;
    r += 0x0fffu + ((r >> 13) & 1u);
    return static_cast<std::uint16_t>(sign | (r >> 13));
  }
  // Subnormal or zero: a multiple of 2^-24, to nearest even (the default rounding mode).
  const float scaled = float_of(a) * 16777216.0f;  // exact: a power-of-two scale into range
  return static_cast<std::uint16_t>(sign | static_cast<std::uint32_t>(std::nearbyint(scaled)));
}

std::uint16_t float16_bits_from(double v) { return float16_bits_from(round_to_odd_float(v)); }

float float_from_float16_bits(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t e = (h >> 10) & 0x1fu;
  const std::uint32_t m = h & 0x3ffu;
  if (e == 0x1fu) return float_of(sign | 0x7f800000u | (m << 13));
  if (e == 0) {
    const float value = static_cast<float>(m) * (1.0f / 16777216.0f);  // m * 2^-24, exact
    return sign != 0 ? -value : value;
  }
  return float_of(sign | ((e + 112u) << 23) | (m << 13));
}

}  // namespace gpurnn
