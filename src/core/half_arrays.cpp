#include "core/half_arrays.h"

#include <cstring>
#include <string>

#include "core/bf16_rounding.h"
#include "gpurnn/error.h"
#include "gpurnn/half.h"

namespace gpurnn::detail {
namespace {

void require_half(DType half, const char* call) {
  if (!is_half(half)) {
    throw Error(ErrorCode::internal, std::string(call) + ": dtype " + to_string(half) + " is not bf16 or f16");
  }
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
    for (std::int64_t k = 0; k < n; ++k) d[k] = bf16_bits_nearest(src[k]);
  } else {
    for (std::int64_t k = 0; k < n; ++k) d[k] = float16_bits_from(src[k]);
  }
}

void round_to_half(DType half, float* values, std::int64_t n) {
  require_half(half, "round_to_half");
  if (half == DType::bf16) {
    for (std::int64_t k = 0; k < n; ++k) {
      const std::uint32_t u = static_cast<std::uint32_t>(bf16_bits_nearest(values[k])) << 16;
      std::memcpy(values + k, &u, sizeof u);
    }
  } else {
    for (std::int64_t k = 0; k < n; ++k) values[k] = float_from_float16_bits(float16_bits_from(values[k]));
  }
}

}  // namespace gpurnn::detail
