#pragma once
// The per-step products of batch 1: one row times Wᵀ (forward) or W (backward), split into
// fixed blocks on the worker pool (worker_pool.h), W read where it is, no packed copy. oneDNN's matmul
// at one row needs W packed first, and packing the transposed W_hh took 6.8 ms per layer call
// at H 1024 (cpu-vs-onednn-2026-11-26-2.md); OpenBLAS's GEMV runs on its own pool. Interleaved
// A/B on 2 threads: lstm/infer B:1 0.77-0.96 of the packed time; then the backward product
// too, lstm/fwd_bwd B:1 0.92-0.94 and gru/fwd_bwd 0.91 of the forward-only version.
// Deterministic: each output is summed in a fixed order whatever the thread count, so batch 1
// runs here on one thread too, where OpenBLAS's GEMV (whose sums differ) ran before; one thread
// measured alike on both (bench/results/busy-core-2026-12-06.md, idle-1 before and after).

#include <cstdint>

namespace gpurnn::cpu {

// c[j] = Σ_k a[k] w[j * ldw + k] + beta c[j] for j < n: a row times Wᵀ, W [n, k].
void gemv_wt_f32(std::int64_t n, std::int64_t k, const float* a, const float* w, std::int64_t ldw,
                 float beta, float* c);

// The same with W in bf16 (bit patterns), widened to f32 as it is read, f32 sums: half the bytes
// of W per step, which is what a batch-1 step is bound by (issue 30). Each output's sum has the
// order of gemv_wt_f32's.
// With AVX512-BF16 (and dot_products, which tests turn off to reach the other path) it multiplies
// with the CPU's bf16 dot products, a's values being bf16; else it widens W as it reads it.
void gemv_wt_bf16(std::int64_t n, std::int64_t k, const float* a, const std::uint16_t* w, std::int64_t ldw,
                  float beta, float* c, bool dot_products = true);

// c[j] = Σ_p a[p] w[p * ldw + j] + beta c[j] for j < n: a row times W, W [k, n].
void gemv_w_f32(std::int64_t n, std::int64_t k, const float* a, const float* w, std::int64_t ldw,
                float beta, float* c);

}  // namespace gpurnn::cpu
