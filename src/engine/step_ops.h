#pragma once
// What one time step of the standard algorithm asks of a backend, as plain structs of pointers
// (into the backend's memory: host for cpu, device for cuda). The time loop (layer_loop.h) is
// written once over an `Ops` object that provides:
//
//   using value_type = T;
//   gemm(Trans, Trans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)   row-major, as in BLAS
//   add_bias_rows(rows, count, n, ld, bias)          rows[r, j] += bias[j]; bias may be null
//   copy(dst, src, n) / copy_or_zero(dst, src, n)    src null: zeros
//   transpose_leading(src, dst, a, b, f)              [a, b, f] -> [b, a, f]
//   apply_dropout(values, count, seed, layer, p)      × detail::dropout_scale(seed, layer, k, p)
//   column_sums(rows, count, n, ld, out, accumulate)
//   forward_step(ForwardStep), finish_forward_step(StepOutput)
//   output_gradient(OutputGradient), backward_step(BackwardStep)
//   stage_lengths(host_lengths, batch, slot) -> pointer the step functions read lengths from
//   write_header(reserve_header_ptr, ReserveHeader) / read_header(ptr) -> ReserveHeader
// and optionally prepare_fixed_gemm / run_fixed_gemm for the GEMMs by weights and gemm_bias_rows
// for the input projection with its bias (layer_loop.h).
//
// A sequence b is active at step t when t < lengths[b] (lengths null: always).

#include <cstdint>

#include "gpurnn/detail/step_args.h"

namespace gpurnn::engine {

enum class Trans { no, yes };

// A GEMM by a weight matrix W that stays the same for one layer call (at every step):
// C[m, n] = A[m, k] op(W) + beta C, row-major (op(W) = Wᵀ when tw is yes; W is then [n, k]).
template <class T>
struct FixedWeightGemm {
  Trans tw;
  std::int64_t m, n, k;
  const T* w;
  std::int64_t ldw, lda, ldc;
  T beta;
};

// The per-step arguments, shared with the CUDA kernels (gpurnn/detail/step_args.h).
using detail::BackwardStep;
using detail::ForwardStep;
using detail::OutputGradient;
using detail::StepOutput;

}  // namespace gpurnn::engine
