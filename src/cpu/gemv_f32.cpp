// Batch-1 f32 products (gemv_f32.h). Thread-to-data mapping: by Wᵀ, output j belongs to one
// thread (blocks of kBlock outputs, each an item of the worker pool), which reads the rows of W its outputs
// need, each once; by W, a thread takes whole chunks of kRowChunk rows of W (a partial sum of
// every output each), then output blocks sum the chunks in order. The loops are compiled for
// AVX-512F, AVX2 and baseline x86-64 (target_clones, as cpu_rows_f32.cpp; the row helper is
// forced inline into each clone) and vectorise over 16 independent lanes, so the sums need no
// reassociation; as there, the AVX clones contract a * b + c to FMA, so their bits differ from
// the baseline clone's.

#include "cpu/gemv_f32.h"

#include "core/half_arrays.h"
#include "cpu/worker_pool.h"


#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#if defined(__x86_64__) && defined(__ELF__) && defined(__GNUC__)
#define GPURNN_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define GPURNN_VECTOR_CLONES
#endif
#if defined(__GNUC__)
#define GPURNN_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define GPURNN_ALWAYS_INLINE inline
#endif

namespace gpurnn::cpu {
namespace {

constexpr std::int64_t kLanes = 16;
constexpr std::int64_t kBlock = 64;  // outputs per unit of work

// c[j + r] for the R rows j..j+R-1 of a · Wᵀ: 16 partial sums per output, lane l summing the
// elements k mod 16 = l, then the lanes in order and the tail. Each row's lanes are one vector
// whose additions depend on each other, so a row alone waits on the FMA latency at every step;
// R = 4 independent rows (sharing the loads of a) keep the FMA units busy. Every output's sum
// is the same, in the same order, whatever R.
// W's elements are float, or bf16 bit patterns (gemv_wt_bf16) widened as they are read.
GPURNN_ALWAYS_INLINE float weight_value(float w) { return w; }
GPURNN_ALWAYS_INLINE float weight_value(std::uint16_t bf16) {
  const std::uint32_t bits = static_cast<std::uint32_t>(bf16) << 16;
  float v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

template <int R, class W>
GPURNN_ALWAYS_INLINE void wt_rows(std::int64_t j, std::int64_t k, const float* __restrict a,
                                  const W* __restrict w, std::int64_t ldw, float beta,
                                  float* __restrict c) {
  const std::int64_t k16 = k / kLanes * kLanes;
  const W* __restrict row[R];
  for (int r = 0; r < R; ++r) row[r] = w + (j + r) * ldw;
  float lane[R][kLanes] = {};
  for (std::int64_t p = 0; p < k16; p += kLanes) {
    for (std::int64_t l = 0; l < kLanes; ++l) {
      const float x = a[p + l];
      for (int r = 0; r < R; ++r) lane[r][l] += x * weight_value(row[r][p + l]);
    }
  }
  for (int r = 0; r < R; ++r) {
    float sum = 0.0f;
    for (std::int64_t l = 0; l < kLanes; ++l) sum += lane[r][l];
    for (std::int64_t p = k16; p < k; ++p) sum += a[p] * weight_value(row[r][p]);
    c[j + r] = beta == 0.0f ? sum : sum + beta * c[j + r];
  }
}

// c[j] for j in [j0, j1) of a · Wᵀ, four rows at a time, then the rest one by one.
template <class W>
GPURNN_ALWAYS_INLINE void wt_rows_of_block(std::int64_t j0, std::int64_t j1, std::int64_t k, const float* __restrict a,
                                           const W* __restrict w, std::int64_t ldw, float beta, float* __restrict c) {
  std::int64_t j = j0;
  for (; j + 4 <= j1; j += 4) wt_rows<4>(j, k, a, w, ldw, beta, c);
  for (; j < j1; ++j) wt_rows<1>(j, k, a, w, ldw, beta, c);
}
// One clone set per weight type (target_clones does not apply to templates).
GPURNN_VECTOR_CLONES
void wt_block(std::int64_t j0, std::int64_t j1, std::int64_t k, const float* __restrict a,
              const float* __restrict w, std::int64_t ldw, float beta, float* __restrict c) {
  wt_rows_of_block(j0, j1, k, a, w, ldw, beta, c);
}
GPURNN_VECTOR_CLONES
void wt_block_bf16(std::int64_t j0, std::int64_t j1, std::int64_t k, const float* __restrict a,
                   const std::uint16_t* __restrict w, std::int64_t ldw, float beta, float* __restrict c) {
  wt_rows_of_block(j0, j1, k, a, w, ldw, beta, c);
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define GPURNN_HAVE_DPBF16 1
// The bf16 rows with AVX512-BF16's dot products (vdpbf16ps: 32 bf16 products a cycle into 16 f32
// sums, no widening): each output's 16 lanes sum element pairs (2l, 2l+1) of every 32, then the
// lanes are reduced; the tail past a multiple of 32 is a masked load of zeros. The products are
// exact and summed in f32 (the instruction flushes subnormal inputs and sums to zero, below
// 1.2e-38). Four rows share each load of a. Runs where the CPU has AVX512-BF16
// (__builtin_cpu_supports), else gemv_wt_bf16 widens W as it reads it.
#define GPURNN_DPBF16_TARGET __attribute__((target("avx512f,avx512bw,avx512bf16")))
template <int R>
GPURNN_DPBF16_TARGET void dp_rows(std::int64_t j, std::int64_t k, const std::uint16_t* a, const std::uint16_t* w,
                                  std::int64_t ldw, float beta, float* c) {
  const std::int64_t k32 = k / 32 * 32;
  __m512 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
  for (std::int64_t p = 0; p < k32; p += 32) {
    const __m512bh av = (__m512bh)_mm512_loadu_si512(a + p);
    for (int r = 0; r < R; ++r) acc[r] = _mm512_dpbf16_ps(acc[r], av, (__m512bh)_mm512_loadu_si512(w + (j + r) * ldw + p));
  }
  if (k > k32) {
    const __mmask32 tail = static_cast<__mmask32>((1ull << (k - k32)) - 1);
    const __m512bh av = (__m512bh)_mm512_maskz_loadu_epi16(tail, a + k32);
    for (int r = 0; r < R; ++r) {
      acc[r] = _mm512_dpbf16_ps(acc[r], av, (__m512bh)_mm512_maskz_loadu_epi16(tail, w + (j + r) * ldw + k32));
    }
  }
  for (int r = 0; r < R; ++r) {
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, acc[r]);
    float sum = 0.0f;
    for (float lane : lanes) sum += lane;  // in lane order, as the other rows
    c[j + r] = beta == 0.0f ? sum : sum + beta * c[j + r];
  }
}
GPURNN_DPBF16_TARGET void wt_block_dpbf16(std::int64_t j0, std::int64_t j1, std::int64_t k, const std::uint16_t* a,
                                          const std::uint16_t* w, std::int64_t ldw, float beta, float* c) {
  std::int64_t j = j0;
  for (; j + 4 <= j1; j += 4) dp_rows<4>(j, k, a, w, ldw, beta, c);
  for (; j < j1; ++j) dp_rows<1>(j, k, a, w, ldw, beta, c);
}
#endif

// partial[j] = Σ_{p in [p0, p1)} a[p] w[p * ldw + j] for j < n: whole rows of W, contiguous.
GPURNN_VECTOR_CLONES
void w_rows(std::int64_t p0, std::int64_t p1, std::int64_t n, const float* __restrict a,
            const float* __restrict w, std::int64_t ldw, float* __restrict partial) {
  for (std::int64_t j = 0; j < n; ++j) partial[j] = 0.0f;
  for (std::int64_t p = p0; p < p1; ++p) {
    const float ap = a[p];
    const float* __restrict row = w + p * ldw;
    for (std::int64_t j = 0; j < n; ++j) partial[j] += ap * row[j];
  }
}

// c[j] for j in [j0, j1) = the chunks' partial sums in chunk order (+ beta c[j]).
GPURNN_VECTOR_CLONES
void sum_chunks(std::int64_t j0, std::int64_t j1, std::int64_t chunks, std::int64_t n,
                const float* __restrict partial, float beta, float* __restrict c) {
  for (std::int64_t j = j0; j < j1; ++j) {
    float sum = 0.0f;
    for (std::int64_t q = 0; q < chunks; ++q) sum += partial[q * n + j];
    c[j] = beta == 0.0f ? sum : sum + beta * c[j];
  }
}

}  // namespace

void gemv_wt_f32(std::int64_t n, std::int64_t k, const float* a, const float* w, std::int64_t ldw,
                 float beta, float* c) {
  const std::int64_t blocks = (n + kBlock - 1) / kBlock;
  parallel_for(blocks, [&](std::int64_t b) { wt_block(b * kBlock, std::min(n, (b + 1) * kBlock), k, a, w, ldw, beta, c); });
}

void gemv_wt_bf16(std::int64_t n, std::int64_t k, const float* a, const std::uint16_t* w, std::int64_t ldw,
                  float beta, float* c, bool dot_products) {
  const std::int64_t blocks = (n + kBlock - 1) / kBlock;
#if defined(GPURNN_HAVE_DPBF16)
  static const bool have_dot_products = __builtin_cpu_supports("avx512bf16");
  if (dot_products && have_dot_products) {
    // a holds bf16 values (a half call's operand): its bf16 copy is exact.
    thread_local std::vector<std::uint16_t> a_bf16;
    a_bf16.resize(static_cast<std::size_t>(k));
    detail::narrow_to_half(DType::bf16, a, a_bf16.data(), k);
    const std::uint16_t* ab = a_bf16.data();
    parallel_for(blocks, [&](std::int64_t b) { wt_block_dpbf16(b * kBlock, std::min(n, (b + 1) * kBlock), k, ab, w, ldw, beta, c); });
    return;
  }
#else
  (void)dot_products;
#endif
  parallel_for(blocks, [&](std::int64_t b) { wt_block_bf16(b * kBlock, std::min(n, (b + 1) * kBlock), k, a, w, ldw, beta, c); });
}

// Rows of W in fixed chunks of kRowChunk (whatever the thread count, so the sums' order is
// fixed), each chunk's partial row summed by one thread; then blocks of outputs summing the
// chunks in order.
void gemv_w_f32(std::int64_t n, std::int64_t k, const float* a, const float* w, std::int64_t ldw,
                float beta, float* c) {
  constexpr std::int64_t kRowChunk = 128;
  const std::int64_t chunks = (k + kRowChunk - 1) / kRowChunk;
  thread_local std::vector<float> partial;
  partial.resize(static_cast<std::size_t>(chunks * n));
  float* part = partial.data();
  parallel_for(chunks, [&](std::int64_t q) {
    w_rows(q * kRowChunk, std::min(k, (q + 1) * kRowChunk), n, a, w, ldw, part + q * n);
  });
  const std::int64_t blocks = (n + kBlock - 1) / kBlock;
  parallel_for(blocks, [&](std::int64_t b) { sum_chunks(b * kBlock, std::min(n, (b + 1) * kBlock), chunks, n, part, beta, c); });
}

}  // namespace gpurnn::cpu
