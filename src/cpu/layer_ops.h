#pragma once
// One layer and one direction of the CPU backend: the time loop and its GEMMs. Everything is
// time-major; the caller (cpu_backend.cpp) handles layers, directions, dropout and layouts.
//
// Time loop of a direction: step s = 0..T-1 processes t = s (forward) or t = T-1-s (reverse).
// States are kept in [T+1, B, ·] buffers (see LayerDirSlots) so that the state before step t
// is at prev_index(t) and the state after it at next_index(t), in both directions.
// A sequence b is active at step t when t < length[b]; an inactive step leaves its state
// unchanged, writes zeros to y and zero gradients.

#include <cstdint>

#include "gpurnn/rnn_descriptor.h"

namespace gpurnn::cpu {

// The parameters (or their gradients) of one layer-direction.
template <class Ptr>
struct LayerParamPointers {
  Ptr w_ih = nullptr;  // [G*H, I_l]
  Ptr w_hh = nullptr;  // [G*H, H_out]
  Ptr b_ih = nullptr;  // [G*H] or null
  Ptr b_hh = nullptr;  // [G*H] or null
  Ptr w_hr = nullptr;  // [H_out, H] or null
};
template <class T>
using LayerWeights = LayerParamPointers<const T*>;
template <class T>
using LayerGrads = LayerParamPointers<T*>;

// The saved (or scratch) buffers of one layer-direction; see LayerDirSlots for shapes.
template <class T>
struct LayerBuffers {
  T* gates = nullptr;
  T* h_states = nullptr;
  T* c_states = nullptr;
  T* m = nullptr;
  T* d_ih = nullptr;
  T* d_hh = nullptr;  // null unless GRU: then d_ih doubles as d_hh
  T* d_h = nullptr;
};

struct LayerProblem {
  const RNNDescriptor* desc;
  int layer;
  bool reverse;
  std::int64_t seq_len;          // T
  std::int64_t batch;            // B
  const std::int32_t* lengths;   // [B] or null (= all T)

  std::int64_t input_size() const { return desc->layer_input_size(layer); }
  std::int64_t length(std::int64_t b) const { return lengths ? lengths[b] : seq_len; }
  std::int64_t time_at(std::int64_t step) const { return reverse ? seq_len - 1 - step : step; }
  std::int64_t prev_index(std::int64_t t) const { return reverse ? t + 1 : t; }
  std::int64_t next_index(std::int64_t t) const { return reverse ? t : t + 1; }
  std::int64_t initial_index() const { return reverse ? seq_len : 0; }
  std::int64_t final_index() const { return reverse ? 0 : seq_len; }
};

template <class T>
struct LayerForwardIO {
  const T* x;          // [T, B, I_l]
  const T* h0;         // [B, H_out] or null (zeros)
  const T* c0;         // [B, H] or null (zeros)
  T* y;                // [T, B, ldy], this direction's H_out columns start at y
  std::int64_t ldy;    // D * H_out
  T* hn;               // [B, H_out] or null
  T* cn;               // [B, H] or null
  T* hh;               // scratch [B, G*H]
};

template <class T>
struct LayerBackwardIO {
  const T* dy;         // [T, B, ldy], this direction's columns start at dy
  std::int64_t ldy;
  const T* dhn;        // [B, H_out] or null
  const T* dcn;        // [B, H] or null
  T* dh0;              // [B, H_out] or null
  T* dc0;              // [B, H] or null
  T* dh;               // scratch [B, H_out]
  T* dh_carry;         // scratch [B, H_out]
  T* dc_carry;         // scratch [B, H] (LSTM)
  T* dm;               // scratch [B, H] (projection)
};

// Runs the layer-direction forward, filling `buf` (gates, states) and the outputs.
template <class T>
void layer_forward(const LayerProblem& p, const LayerWeights<T>& w, const LayerBuffers<T>& buf,
                   const LayerForwardIO<T>& io);

// Back-propagates through time: fills buf.d_ih (and d_hh, d_h) and the state gradients.
template <class T>
void layer_backward_data(const LayerProblem& p, const LayerWeights<T>& w,
                         const LayerBuffers<T>& buf, const LayerBackwardIO<T>& io);

// dx (+)= d_ih · W_ih over all steps: [T*B, G*H] x [G*H, I_l].
template <class T>
void layer_input_gradient(const LayerProblem& p, const LayerWeights<T>& w,
                          const LayerBuffers<T>& buf, T* dx, bool accumulate);

// Parameter gradients from the saved buffers: single GEMMs over all T*B rows.
// x is the layer's input [T, B, I_l]. Bias and projection gradients may be null when absent.
template <class T>
void layer_backward_weights(const LayerProblem& p, const LayerBuffers<T>& buf, const T* x,
                            const LayerGrads<T>& grads, bool accumulate);

}  // namespace gpurnn::cpu
