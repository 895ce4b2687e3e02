#pragma once
// Packs a weight matrix into the blocked layout oneDNN's AVX-512 matmul (brgemm) asks for,
// BA16a64b, in place of a dnnl::reorder. The layout of op(W) [K, N] (a = K, b = N): column
// panels of 64, each holding every row k (padded to a multiple of 16) as 64 consecutive floats,
//   dst[(nb * padded_k + k) * 64 + j] = op(W)[k, nb * 64 + j],   zero past K or N.
// oneDNN's reorder from W_hh's transposed layout took 0.73 ms per layer call at H 512 and
// 6.8 ms at H 1024 on 2 threads (cpu-vs-onednn-2026-11-26-2.md); a transposed source is read
// here with 16-row gathers, a plain one with contiguous copies.

#include <cstdint>

namespace gpurnn::cpu {

// op(W)[k, n] = w[k * stride_k + n * stride_n] for k < K, n < N; one of the strides is 1.
// Packs into dst (padded_k * padded_n floats; padded_k a multiple of 16 and padded_n of 64,
// at least K and N) over OpenMP's threads, one 64-column panel per thread at a time.
void pack_ba16a64b_f32(const float* w, std::int64_t k, std::int64_t n, std::int64_t stride_k,
                       std::int64_t stride_n, std::int64_t padded_k, std::int64_t padded_n,
                       float* dst);

}  // namespace gpurnn::cpu
