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

#include "gpurnn/rnn_descriptor.h"

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

// Apply the gates of every sequence at step t.
template <class T>
struct ForwardStep {
  CellKind cell;
  std::int64_t t, batch, hidden, state;  // state = H_out
  const std::int32_t* lengths;           // [B] or null
  T* gates;                // [B, gate_stride]: input pre-activations in, saved gates out
  std::int64_t gate_stride;
  const T* hh;             // [B, G*H]: W_hh h_{t-1} (no bias)
  const T* b_hh;           // [G*H] or null
  const T* h_prev;         // [B, H_out]
  T* h_next;               // [B, H_out]: the new h (without projection)
  const T* c_prev;         // [B, H] (LSTM)
  T* c_next;               // [B, H] (LSTM)
  T* m;                    // [B, H] (LSTM with projection): o ⊙ tanh(c), else null
};
// Active rows: gates and states as the cell says (h_next, or m with projection).
// Inactive rows: gates and m zero, c_next = c_prev; h_next is settled by finish_forward_step.

// After the projection GEMM (if any): y_t and frozen states.
template <class T>
struct StepOutput {
  std::int64_t t, batch, state;
  const std::int32_t* lengths;
  const T* h_prev;  // [B, H_out]
  T* h_next;        // [B, H_out]: inactive rows get h_prev
  T* y;             // [B, ldy] at this direction's columns: h_next for active rows, else 0
  std::int64_t ldy;
};

// dh = carry + dy_t for active rows, 0 for inactive ones.
template <class T>
struct OutputGradient {
  std::int64_t t, batch, state;
  const std::int32_t* lengths;
  const T* carry;  // [B, H_out]
  const T* dy;     // [B, ldy] at this direction's columns
  std::int64_t ldy;
  T* dh;           // [B, H_out]
};

// Gradients of every sequence at step t.
template <class T>
struct BackwardStep {
  CellKind cell;
  std::int64_t t, batch, hidden, state;
  const std::int32_t* lengths;
  const T* gates;          // [B, gate_stride] saved by forward
  std::int64_t gate_stride;
  const T* h_prev;         // [B, H_out]
  const T* c_prev;         // [B, H] (LSTM)
  const T* c_next;         // [B, H] (LSTM)
  const T* dm;             // [B, H] gradient of m (LSTM with projection), else null
  T* dh;                   // [B, H_out]: in, the gradient of h_t (of the cell output when no
                           // projection); out, what reaches h_{t-1} outside W_hh:
                           // z ⊙ dh (GRU), 0 (others), the carry itself (inactive rows)
  const T* carry;          // [B, H_out] gradient carried into h_t, for inactive rows
  T* dc;                   // [B, H] (LSTM): carry of dc, updated in place
  T* d_ih;                 // [B, G*H] gradient of the input pre-activations
  T* d_hh;                 // [B, G*H] of the recurrent ones (GRU; null otherwise)
};

}  // namespace gpurnn::engine
