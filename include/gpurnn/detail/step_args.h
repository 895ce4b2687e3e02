#pragma once
// The arguments of one time step of the standard algorithm, as plain structs of pointers into
// the backend's memory (host for cpu, device for cuda) and sizes: what the engine's time loop
// (src/engine/layer_loop.h) hands a backend's forward_step / finish_forward_step /
// output_gradient / backward_step, and what the CUDA step kernels (kernels/step_kernels.cu)
// take by value. Internal to the library (src/engine/step_ops.h has the Ops contract).
//
// A sequence b is active at step t when t < lengths[b] (lengths null: always).

#include <cstdint>

#include "gpurnn/rnn_descriptor.h"

namespace gpurnn::detail {

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

}  // namespace gpurnn::detail
