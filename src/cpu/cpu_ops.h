#pragma once
// The CPU backend's Ops for the standard algorithm (the contract: engine/ops_contract.h):
// OpenBLAS GEMMs and plain loops over detail/cell_math.h (f32 LSTM, GRU, tanh and sigmoid rows: the vectorised
// copies in cpu_rows_f32.h). With oneDNN (GPURNN_HAVE_ONEDNN) the f32 per-step GEMMs by W_hh
// and W_hr use oneDNN's matmul on weights packed once per layer call, and the input projection
// by W_ih one matmul with the bias on W_ih packed the same way (packed_gemm.h); the other f32 GEMMs are oneDNN matmuls too,
// and the f32 pointwise steps split the batch over the same OpenMP threads. f64, and builds
// without oneDNN, run OpenBLAS (its own threads) and single-threaded loops.

#include <cstddef>
#include <cstdint>
#include <memory>

#include "engine/buffer_layout.h"
#include "engine/prepared_gemms.h"
#include "engine/step_ops.h"

namespace gpurnn::cpu {
class PackedGemm;
}

namespace gpurnn::cpu {

// Sets the calling thread's count for the worker pool every loop of the Ops runs on
// (worker_pool.h; n <= 0: every usable core) and holds OpenBLAS's and OpenMP's own pools at one
// thread. Called before each backend call, with the backend's BackendOptions::num_threads.
void use_cpu_threads(int num_threads);

template <class T>
struct CpuOps {
  using value_type = T;

  void gemm(engine::Trans ta, engine::Trans tb, std::int64_t m, std::int64_t n, std::int64_t k,
            T alpha, const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c,
            std::int64_t ldc);
  // The GEMMs by weights (engine/layer_loop.h WeightGemm): `packed` is set when W
  // was packed for oneDNN (f32 built with oneDNN, batch above 1), else
  // cpu::gemm runs.
  struct FixedGemm {
    engine::FixedWeightGemm<T> gemm{};
    std::shared_ptr<const PackedGemm> packed;
    bool row_gemv = false;  // batch 1, at every thread count: gemv_f32.h, W unpacked
    const std::uint16_t* bf16_w = nullptr;  // row_gemv of a bf16 call: W's bf16 bits (gemv_wt_bf16)
  };
  FixedGemm prepare_fixed_gemm(const engine::FixedWeightGemm<T>& g);
  // Prepared weights (engine/prepared_gemms.h): with `prepared` set, prepare_fixed_gemm takes
  // its handles from there, keyed by the GEMM (the same for every thread count), packing each W once for
  // the life of the prepared weights (and once per layout oneDNN picks: batch sizes whose
  // layouts agree share one packed copy).
  using PreparedCache = engine::PreparedGemms<T, FixedGemm>;
  PreparedCache* prepared = nullptr;
  static bool prepare_packs();  // f32 built with oneDNN
  static std::size_t packed_bytes(const PreparedCache& cache);
  void run_fixed_gemm(const FixedGemm& g, const T* a, T* c);
  // The input projection C = A op(W) + bias rows (engine/layer_loop.h): one oneDNN matmul with
  // the bias when `packed` would be used, else cpu::gemm and add_bias_rows.
  void gemm_bias_rows(const engine::FixedWeightGemm<T>& g, const T* a, const T* bias, T* c);
  void add_bias_rows(T* rows, std::int64_t count, std::int64_t n, std::int64_t ld, const T* bias);
  void copy(T* dst, const T* src, std::int64_t n);
  void copy_or_zero(T* dst, const T* src, std::int64_t n);
  void transpose_leading(const T* src, T* dst, std::int64_t a, std::int64_t b, std::int64_t f);
  void apply_dropout(T* values, std::int64_t count, std::uint64_t seed, int layer, double p);
  // Half calls (engine/half_calls.h): values rounded to bf16 or f16, kept as float.
  void round_to_half(DType half, float* values, std::int64_t n);
  // A bf16 forward (engine/half_calls.h) tells the Ops where the caller's bf16 weights are and
  // the widened copy the network multiplies by: its GEMMs by weights then read the bf16 bits
  // instead (gemv_wt_bf16 at batch 1; oneDNN's bf16 matmul, packed in bf16, above), with the
  // same f32 accumulation of the same exact products. f16, and CPUs without a fast bf16
  // matmul (packed_gemm.h onednn_bf16_matmul), multiply by the widened copy.
  void use_half_weights(DType half, const float* widened, const void* half_data, std::int64_t count);
  struct Bf16Weights {
    const float* widened = nullptr;
    const std::uint16_t* bits = nullptr;
    std::int64_t count = 0;
  };
  Bf16Weights bf16_weights;
  // A bf16 backward_weights (engine/half_calls.h): both operands of every gemm are bf16 values,
  // multiplied by oneDNN's bf16 matmul where the CPU has a fast one.
  void use_half_operands(DType half);
  bool bf16_operands = false;
  // W's bf16 bits when `w` points into the widened copy (and the call is bf16), else null.
  const std::uint16_t* bf16_of(const T* w) const;
  void column_sums(const T* rows, std::int64_t count, std::int64_t n, std::int64_t ld, T* out,
                   bool accumulate);
  void forward_step(const engine::ForwardStep<T>& s);
  void finish_forward_step(const engine::StepOutput<T>& s);
  void output_gradient(const engine::OutputGradient<T>& s);
  void backward_step(const engine::BackwardStep<T>& s);
  // Host memory: the lengths are read where they are.
  const std::int32_t* stage_lengths(const std::int32_t* host, std::int64_t, std::int32_t*) { return host; }
  void write_header(engine::ReserveHeader* dst, const engine::ReserveHeader& h) { *dst = h; }
  engine::ReserveHeader read_header(const engine::ReserveHeader* src) { return *src; }
};

}  // namespace gpurnn::cpu
