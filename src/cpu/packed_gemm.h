#pragma once
// A per-step f32 GEMM on fixed weights, through oneDNN's matmul: W is reordered once
// (format_tag::any: oneDNN's packed layout for this shape), in column chunks of kChunkCols
// (gemm_chunks.h), when the object is built, and each run multiplies by the packed copies, a
// chunk per item of the worker pool (worker_pool.h). OpenBLAS has no pack-once API, so its GEMM repacks W on
// every step (bench/results/cpu-vs-onednn-2026-11-25-2.md).
// Built only with oneDNN (GPURNN_HAVE_ONEDNN); the object owns its packed copy, so it reflects
// W as it was when built. It lives either for one layer call (Storage::per_call: the copy's
// memory comes from the thread's pool) or as long as prepared weights do (Storage::kept, made
// through engine/prepared_gemms.h; such objects may share one packed copy). run() may be called
// from several threads at once: each run has its own memory objects and scratchpad (oneDNN's
// user scratchpad mode, since the library's shared one would tie a primitive to its thread).
// matmul_bias_rows below is the one-shot counterpart, for the input projection.

#include <cstddef>
#include <cstdint>
#include <memory>

#include "engine/step_ops.h"

namespace gpurnn::cpu {

class PackedGemm {
 public:
  enum class Storage { per_call, kept };
  // Packs g.w, or, when `share` packed the same W (pointer, op and leading dimension) into
  // the layout this shape wants, uses its copy. A failing oneDNN call (here or in run) throws
  // Error(backend_error).
  // `bf16_weights` (bf16 bit patterns laid out as g.w, whose values they are): W is packed in
  // bf16 from there and every run rounds A to bf16 (exact for the bf16 values a half call's
  // operands hold) and accumulates in f32: oneDNN's bf16 matmul (onednn_bf16_matmul()).
  PackedGemm(const engine::FixedWeightGemm<float>& g, Storage storage, const PackedGemm* share = nullptr,
             const std::uint16_t* bf16_weights = nullptr);
  ~PackedGemm();
  PackedGemm(const PackedGemm&) = delete;
  PackedGemm& operator=(const PackedGemm&) = delete;

  // C = A op(W) + beta C, with the shapes and strides given at construction.
  void run(const float* a, float* c) const;
  // C[m, n] = A[m, k] op(W) + bias[n] in every row (bias null: none) + beta C, with m rows
  // instead of the construction's (strides and beta as given there), on the packed copy: the
  // input projection of prepared weights, whose row count T·B changes from call to call while
  // oneDNN's packed layout does not. The primitive is rebuilt per call (oneDNN's primitive
  // cache makes repeats cheap).
  void run_rows(std::int64_t m, const float* a, const float* bias, float* c) const;
  // The packed copy: its bytes, and its address (objects sharing a copy give the same one).
  std::size_t packed_bytes() const;
  const void* packed_data() const;

 private:
  void pack(const engine::FixedWeightGemm<float>& g, Storage storage, const PackedGemm* share,
            const std::uint16_t* bf16_weights);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// C[m, n] = A[m, k] op(W) + bias[n] in every row (bias null: none) with g's shapes and strides
// (plus g.beta C), one oneDNN matmul on W as it is: for a GEMM run once per layer call (the
// input projection), where oneDNN packing W inside the call costs less than a reorder into a
// packed copy (cpu_ops.cpp: below kMinPackedProjectionRows rows, and as a rule for every T·B
// on the weights), and the bias is added as C is written instead of in a second pass over C.
// A failing oneDNN call throws Error(backend_error).
void matmul_bias_rows(const engine::FixedWeightGemm<float>& g, const float* a, const float* bias,
                      float* c);

// C[m, n] = op(A)[m, k] op(B)[k, n] + beta C, row-major with leading dimensions lda, ldb, ldc
// (op = transpose when asked, read through the strides): oneDNN matmuls on the operands as they
// are, one per fixed piece of C (gemm_chunks.h) on the worker pool (worker_pool.h), where every
// f32 GEMM of the cpu backend runs, so no other thread pool competes for the cores: on 2 cores
// OpenBLAS's and OpenMP's pools
// spinning against each other made 2 threads up to 16x slower than 1 at batch 1
// (bench/results/cpu-vs-onednn-2026-11-26-2.md). The weight gradients (dgatesᵀ times a layer's
// inputs or states over all T*B rows) were also 3-8% faster here than on OpenBLAS's sgemm_nt
// single-threaded (bench/results/cpu-vs-onednn-2026-11-26.md). A failing oneDNN call throws
// Error(backend_error).
void matmul(engine::Trans ta, engine::Trans tb, std::int64_t m, std::int64_t n, std::int64_t k,
            const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
            std::int64_t ldc);

// Whether this CPU runs oneDNN's bf16 matmul with an optimised kernel (AVX512-BF16, AMX, or
// oneDNN's AVX-512 emulation); without one, bf16 calls multiply on the widened f32 weights.
bool onednn_bf16_matmul();

// The same product with bf16 operands: A's values and, without `b_bits`, B's rounded to bf16 (to
// nearest; exact for the bf16 values a half call passes), or B's bf16 bits laid out as b; f32
// sums, oneDNN's bf16 matmul (onednn_bf16_matmul), in the same fixed pieces.
void matmul_bf16(engine::Trans ta, engine::Trans tb, std::int64_t m, std::int64_t n, std::int64_t k,
                 const float* a, std::int64_t lda, const float* b, std::int64_t ldb, const std::uint16_t* b_bits,
                 float beta, float* c, std::int64_t ldc);

// Sets oneDNN's thread count (OpenMP's, for the calling thread); n <= 0 leaves it unchanged.
void set_onednn_threads(int n);

}  // namespace gpurnn::cpu
