// Batch-1 f32 product by Wᵀ (gemv_f32.h). Thread-to-data mapping: output j belongs to one
// thread (blocks of kBlock outputs, schedule(static)); a thread reads the rows of W that its
// outputs need, each once. The loop is compiled for AVX-512F, AVX2 and baseline x86-64
// (target_clones, as cpu_rows_f32.cpp) and vectorises over 16 independent lanes, so the sums
// need no reassociation; as there, the AVX clones contract a * b + c to FMA, so their bits
// differ from the baseline clone's.

#include "cpu/gemv_f32.h"

#include <omp.h>

#include <algorithm>

#if defined(__x86_64__) && defined(__ELF__) && defined(__GNUC__)
#define GPURNN_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define GPURNN_VECTOR_CLONES
#endif

namespace gpurnn::cpu {
namespace {

constexpr std::int64_t kLanes = 16;
constexpr std::int64_t kBlock = 64;  // outputs per unit of work

// c[j] for j in [j0, j1) of a · Wᵀ: 16 partial sums per output, lane l summing the elements
// k mod 16 = l, then the lanes in order and the tail.
GPURNN_VECTOR_CLONES
void wt_block(std::int64_t j0, std::int64_t j1, std::int64_t k, const float* __restrict a,
              const float* __restrict w, std::int64_t ldw, float beta, float* __restrict c) {
  const std::int64_t k16 = k / kLanes * kLanes;
  for (std::int64_t j = j0; j < j1; ++j) {
    const float* __restrict row = w + j * ldw;
    float lane[kLanes] = {};
    for (std::int64_t p = 0; p < k16; p += kLanes) {
      for (std::int64_t l = 0; l < kLanes; ++l) lane[l] += a[p + l] * row[p + l];
    }
    float sum = 0.0f;
    for (std::int64_t l = 0; l < kLanes; ++l) sum += lane[l];
    for (std::int64_t p = k16; p < k; ++p) sum += a[p] * row[p];
    c[j] = beta == 0.0f ? sum : sum + beta * c[j];
  }
}

}  // namespace

void gemv_wt_f32(std::int64_t n, std::int64_t k, const float* a, const float* w, std::int64_t ldw,
                 float beta, float* c) {
  const std::int64_t blocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (blocks > 1)
  for (std::int64_t b = 0; b < blocks; ++b) {
    wt_block(b * kBlock, std::min(n, (b + 1) * kBlock), k, a, w, ldw, beta, c);
  }
}

}  // namespace gpurnn::cpu
