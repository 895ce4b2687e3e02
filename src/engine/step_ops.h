#pragma once
// What one time step of the standard algorithm asks of a backend, as plain structs of pointers
// (into the backend's memory: host for cpu, device for cuda). The time loop (layer_loop.h) is
// written once over an `Ops` object; what it must offer is ops_contract.h, checked where an Ops
// enters the engine (network_loop.h). In words:
//   gemm (row-major, as in BLAS), add_bias_rows (bias may be null), copy / copy_or_zero (src
//   null: zeros), transpose_leading ([a, b, f] -> [b, a, f]), apply_dropout
//   (× detail::dropout_scale), column_sums, the four step functions below, stage_lengths (where
//   the step functions read lengths from) and write_header / read_header of the reserve;
// optionally prepare_fixed_gemm / run_fixed_gemm for the GEMMs by weights and gemm_bias_rows
// for the input projection with its bias (layer_loop.h), and a PreparedCache that keeps those
// GEMMs' handles for prepared weights (prepared_gemms.h).
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
