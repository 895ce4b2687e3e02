// Weight packing for oneDNN's blocked layout (weight_pack_f32.h). Thread-to-data mapping: one
// 64-column panel per unit of work (schedule(static) over OpenMP's threads when the library is
// built with them, as with oneDNN); a panel is written front to back, every element of it
// exactly once (padding included). Compiled in every build, so tests reach it without oneDNN.

#include "cpu/weight_pack_f32.h"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define GPURNN_PACK_GATHER 1
#endif

namespace gpurnn::cpu {
namespace {

constexpr std::int64_t kPanel = 64;  // columns per panel (the "64b" block)
constexpr std::int64_t kLanes = 16;  // floats per AVX-512 vector

// Columns [n0, n0 + cols) of op(W) whose rows are contiguous (stride_n == 1): each k is one
// copy of `cols` floats, zero-filled to 64.
void pack_panel_rows(const float* w, std::int64_t k, std::int64_t stride_k, std::int64_t n0,
                     std::int64_t cols, std::int64_t padded_k, float* panel) {
  for (std::int64_t p = 0; p < k; ++p) {
    float* out = panel + p * kPanel;
    std::memcpy(out, w + p * stride_k + n0, static_cast<std::size_t>(cols) * sizeof(float));
    std::fill(out + cols, out + kPanel, 0.0f);
  }
  std::fill(panel + k * kPanel, panel + padded_k * kPanel, 0.0f);
}

// Element by element: any strides, any column count (the fallback, and partial panels of a
// transposed source).
void pack_panel_any(const float* w, std::int64_t k, std::int64_t stride_k, std::int64_t stride_n,
                    std::int64_t n0, std::int64_t cols, std::int64_t padded_k, float* panel) {
  for (std::int64_t p = 0; p < padded_k; ++p) {
    for (std::int64_t j = 0; j < kPanel; ++j) {
      panel[p * kPanel + j] = p < k && j < cols ? w[p * stride_k + (n0 + j) * stride_n] : 0.0f;
    }
  }
}

#if defined(GPURNN_PACK_GATHER)
// A full panel of a transposed source (stride_k == 1): op(W)[p, n0 + j] = w[(n0 + j) * ld + p],
// so each k reads one float from each of 64 rows of w, four 16-row gathers.
__attribute__((target("avx512f"))) void pack_panel_gather(const float* w, std::int64_t k,
                                                          std::int64_t ld, std::int64_t n0,
                                                          std::int64_t padded_k, float* panel) {
  const __m512i rows = _mm512_mullo_epi32(
      _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
      _mm512_set1_epi32(static_cast<int>(ld)));
  for (std::int64_t q = 0; q < kPanel / kLanes; ++q) {
    const float* src = w + (n0 + q * kLanes) * ld;
    for (std::int64_t p = 0; p < k; ++p) {
      // The masked form: the plain gather starts from an undefined vector, which GCC 12 warns of.
      const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), 0xFFFF, rows, src + p, 4);
      _mm512_storeu_ps(panel + p * kPanel + q * kLanes, v);
    }
  }
  std::fill(panel + k * kPanel, panel + padded_k * kPanel, 0.0f);
}

bool gather_available() {
  static const bool available = __builtin_cpu_supports("avx512f");
  return available;
}
#endif

}  // namespace

void pack_ba16a64b_f32(const float* w, std::int64_t k, std::int64_t n, std::int64_t stride_k,
                       std::int64_t stride_n, std::int64_t padded_k, std::int64_t padded_n,
                       float* dst) {
  const std::int64_t panels = padded_n / kPanel;
  // Row indices of a gather are 32-bit: 15 * ld must fit.
  bool gather = false;
#if defined(GPURNN_PACK_GATHER)
  gather = stride_k == 1 && stride_n <= (std::int64_t{1} << 26) && gather_available();
#endif
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) if (panels > 1)
#endif
  for (std::int64_t nb = 0; nb < panels; ++nb) {
    const std::int64_t n0 = nb * kPanel, cols = std::clamp<std::int64_t>(n - n0, 0, kPanel);
    float* panel = dst + nb * padded_k * kPanel;
    if (stride_n == 1) {
      pack_panel_rows(w, k, stride_k, n0, cols, padded_k, panel);
    } else if (gather && cols == kPanel) {
#if defined(GPURNN_PACK_GATHER)
      pack_panel_gather(w, k, stride_n, n0, padded_k, panel);
#endif
    } else {
      pack_panel_any(w, k, stride_k, stride_n, n0, cols, padded_k, panel);
    }
  }
}

}  // namespace gpurnn::cpu
