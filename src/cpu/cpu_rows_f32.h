#pragma once
// The f32 pointwise step of one sequence (one row of the batch), vectorised: the same
// equations as detail/cell_math.h, gate by gate over the H hidden units, with the branch-free
// exp/tanh/sigmoid of vector_math.h in place of libm. The f64 path stays on cell_math.h.
//
// Layouts as in CpuOps::forward_step / backward_step: `gates` is [G, H] (G gates of H units,
// PyTorch order), `hh` the recurrent pre-activations [G, H] without bias, `b_hh` [G, H] or null.
// Preconditions: no output array overlaps any other argument array (the engine keeps states of
// different steps, gates and scratch in separate buffers).

#include <cstdint>

#include "gpurnn/rnn_descriptor.h"

namespace gpurnn::cpu {

// LSTM: gates in (input pre-activations), i, f, g, o out; c_next and m = o tanh(c_next).
void lstm_forward_row_f32(std::int64_t h, float* gates, const float* hh, const float* b_hh,
                          const float* c_prev, float* c_next, float* m);

// GRU: gates [4, H] in (r, z, n input pre-activations), r, z, n and hh_n out; h_next.
void gru_forward_row_f32(std::int64_t h, float* gates, const float* hh, const float* b_hh,
                         const float* h_prev, float* h_next);

// Vanilla tanh or sigmoid cell (relu has no transcendental and stays on the shared path):
// gates in, h = act(gates + hh + b_hh) into gates and out.
void vanilla_forward_row_f32(CellKind cell, std::int64_t h, float* gates, const float* hh,
                             const float* b_hh, float* out);

// LSTM backward: d_ih [4, H] = gradients of the i, f, g, o pre-activations; dc updated in place
// from dc_{t+1} to dc_t. `dm` is the gradient of m = o tanh(c).
void lstm_backward_row_f32(std::int64_t h, const float* gates, const float* c_prev,
                           const float* c_next, const float* dm, float* dc, float* d_ih);

}  // namespace gpurnn::cpu
