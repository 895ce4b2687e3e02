#pragma once
// float -> bfloat16 bits, to nearest with ties to even, NaN kept quiet: the one definition that
// half.h's conversions and the bulk loops of half_arrays.h share. Branch-free, so a loop of it
// vectorises.

#include <cstdint>
#include <cstring>

namespace gpurnn::detail {

inline std::uint16_t bf16_bits_nearest(float v) {
  std::uint32_t u;
  std::memcpy(&u, &v, sizeof u);
  const bool nan = (u & 0x7fffffffu) > 0x7f800000u;
  const std::uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;  // carries into the exponent (inf)
  return static_cast<std::uint16_t>(nan ? ((u >> 16) | 0x0040u) : rounded);
}

}  // namespace gpurnn::detail
