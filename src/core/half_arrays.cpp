#include "core/half_arrays.h"

#include <cstring>
#include <string>

#include "gpurnn/error.h"
#include "gpurnn/half.h"

namespace gpurnn::detail {
namespace {

void require_half(DType half, const char* call) {
  if (!is_half(half)) {
    throw Error(ErrorCode::internal, std::string(call) + ": dtype " + to_string(half) + " is not bf16 or f16");
  }
}

// bf16 by bits: branch-free so the loops vectorise.
inline std::uint32_t float_bits(float v) {
  std::uint32_t u;
  std::memcpy(&u, &v, sizeof u);
  return u;
}
inline std::uint16_t bf16_round(std::uint32_t u) {
  const bool nan = (u & 0x7fffffffu) > 0x7f800000u;
  const std::uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  return static_cast<std::uint16_t>(nan ? ((u >> 16) | 0x0040u) : rounded);
}

}  // namespace

void widen_half(DType half, const void* src, float* dst, std::int64_t n) {
  require_half(half, "widen_half");
  const auto* s = static_cast<const std::uint16_t*>(src);
  if (half == DType::bf16) {
    for (std::int64_t k = 0; k < n; ++k) {
      const std::uint32_t u = static_cast<std::uint32_t>(s[k]) << 16;
      std::memcpy(dst + k, &u, sizeof u);
    }
  } else {
    for (std::int64_t k = 0; k < n; ++k) dst[k] = float_from_float16_bits(s[k]);
  }
}

void narrow_to_half(DType half, const float* src, void* dst, std::int64_t n) {
  require_half(half, "narrow_to_half");
  auto* d = static_cast<std::uint16_t*>(dst);
  if (half == DType::bf16) {
    for (std::int64_t k = 0; k < n; ++k) d[k] = bf16_round(float_bits(src[k]));
  } else {
    for (std::int64_t k = 0; k < n; ++k) d[k] = float16_bits_from(src[k]);
  }
}

void round_to_half(DType half, float* values, std::int64_t n) {
  require_half(half, "round_to_half");
  if (half == DType::bf16) {
    for (std::int64_t k = 0; k < n; ++k) {
      const std::uint32_t u = static_cast<std::uint32_t>(bf16_round(float_bits(values[k]))) << 16;
      std::memcpy(values + k, &u, sizeof u);
    }
  } else {
    for (std::int64_t k = 0; k < n; ++k) values[k] = float_from_float16_bits(float16_bits_from(values[k]));
  }
}

}  // namespace gpurnn::detail
