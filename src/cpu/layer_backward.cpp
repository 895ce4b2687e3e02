// Backward through time of one layer-direction on the CPU, mirroring layer_forward.cpp: per step
// one pointwise pass (detail/cell_math.h) and one recurrent GEMM, walking the steps in reverse
// processing order; after the loop, input and weight gradients as single GEMMs over all steps.

#include <algorithm>
#include <cstring>

#include "cpu/blas.h"
#include "cpu/layer_ops.h"
#include "gpurnn/detail/cell_math.h"

namespace gpurnn::cpu {
namespace {

template <class T>
void copy_or_zero(T* dst, const T* src, std::int64_t n) {
  if (src != nullptr) {
    std::memcpy(dst, src, static_cast<std::size_t>(n) * sizeof(T));
  } else {
    std::fill(dst, dst + n, T(0));
  }
}

// Gradients of one active sequence at one step. `dh_io` holds the gradient of this step's
// output (m for an LSTM with projection, else h) on entry; on exit, for a GRU, the part of
// dh_{t-1} that bypasses W_hh (z ⊙ dh). Writes d_ih (and d_hh) rows; updates dc (LSTM).
template <class T>
void pointwise_backward(CellKind cell, std::int64_t h, const T* gates, const T* c_prev,
                        const T* c_next, const T* h_prev, T* dh_io, T* dc, T* d_ih, T* d_hh) {
  if (cell == CellKind::lstm) {
    for (std::int64_t j = 0; j < h; ++j) {
      const detail::LstmGates<T> g{gates[j], gates[h + j], gates[2 * h + j], gates[3 * h + j]};
      const detail::LstmGrad<T> r = detail::lstm_backward(g, c_next[j], c_prev[j], dh_io[j], dc[j]);
      for (int k = 0; k < 4; ++k) d_ih[k * h + j] = r.d_pre[k];
      dc[j] = r.dc_prev;
    }
  } else if (cell == CellKind::gru) {
    for (std::int64_t j = 0; j < h; ++j) {
      const detail::GruGates<T> g{gates[j], gates[h + j], gates[2 * h + j], gates[3 * h + j]};
      const detail::GruGrad<T> r = detail::gru_backward(g, h_prev[j], dh_io[j]);
      for (int k = 0; k < 3; ++k) {
        d_ih[k * h + j] = r.d_ih[k];
        d_hh[k * h + j] = r.d_hh[k];
      }
      dh_io[j] = r.dh_direct;
    }
  } else {
    for (std::int64_t j = 0; j < h; ++j) {
      d_ih[j] = dh_io[j] * detail::vanilla_activation_derivative(cell, gates[j]);
    }
  }
}

// Column sums of rows[count, n] (ld apart) written or added to out[n].
template <class T>
void column_sums(const T* rows, std::int64_t count, std::int64_t n, std::int64_t ld, T* out,
                 bool accumulate) {
  if (!accumulate) std::fill(out, out + n, T(0));
  for (std::int64_t r = 0; r < count; ++r) {
    const T* row = rows + r * ld;
    for (std::int64_t j = 0; j < n; ++j) out[j] += row[j];
  }
}

}  // namespace

template <class T>
void layer_backward_data(const LayerProblem& p, const LayerWeights<T>& w,
                         const LayerBuffers<T>& buf, const LayerBackwardIO<T>& io) {
  const RNNDescriptor& d = *p.desc;
  const CellKind cell = d.cell;
  const std::int64_t B = p.batch, H = d.hidden_size, Ho = d.state_size();
  const std::int64_t gh = d.gates() * H;
  const std::int64_t S = cell == CellKind::gru ? 4 * H : gh;
  const bool lstm = cell == CellKind::lstm, gru = cell == CellKind::gru, proj = d.proj_size > 0;
  T* d_hh_all = gru ? buf.d_hh : buf.d_ih;

  // `carry` is the gradient reaching h_t from later steps; `dh` the per-step scratch. They swap
  // roles each step, so no copy is needed.
  T* carry = io.dh_carry;
  T* dh_all = io.dh;
  copy_or_zero(carry, io.dhn, B * Ho);
  if (lstm) copy_or_zero(io.dc_carry, io.dcn, B * H);

  for (std::int64_t step = p.seq_len - 1; step >= 0; --step) {
    const std::int64_t t = p.time_at(step);
    const std::int64_t pi = p.prev_index(t), ni = p.next_index(t);
    // dh = gradient reaching h_t: from later steps (carry) and from y_t.
    for (std::int64_t b = 0; b < B; ++b) {
      T* dh = dh_all + b * Ho;
      if (t < p.length(b)) {
        const T* dy = io.dy + (t * B + b) * io.ldy;
        for (std::int64_t k = 0; k < Ho; ++k) dh[k] = carry[b * Ho + k] + dy[k];
      } else {
        std::fill(dh, dh + Ho, T(0));
      }
    }
    // Through the projection h = W_hr m: keep dh for dW_hr, dm = dh W_hr.
    if (proj) {
      std::memcpy(buf.d_h + t * B * Ho, dh_all, static_cast<std::size_t>(B * Ho) * sizeof(T));
      gemm<T>(Trans::no, Trans::no, B, H, Ho, T(1), dh_all, Ho, w.w_hr, H, T(0), io.dm, H);
    }
    T* d_ih = buf.d_ih + t * B * gh;
    T* d_hh = d_hh_all + t * B * gh;
    for (std::int64_t b = 0; b < B; ++b) {
      T* dh = dh_all + b * Ho;
      if (t < p.length(b)) {
        pointwise_backward(cell, H, buf.gates + (t * B + b) * S,
                           lstm ? buf.c_states + (pi * B + b) * H : nullptr,
                           lstm ? buf.c_states + (ni * B + b) * H : nullptr,
                           buf.h_states + (pi * B + b) * Ho, proj ? io.dm + b * H : dh,
                           lstm ? io.dc_carry + b * H : nullptr, d_ih + b * gh, d_hh + b * gh);
        // What reaches h_{t-1} outside W_hh: z ⊙ dh for a GRU (left in dh), nothing otherwise.
        if (!gru) std::fill(dh, dh + Ho, T(0));
      } else {
        std::fill(d_ih + b * gh, d_ih + (b + 1) * gh, T(0));
        if (gru) std::fill(d_hh + b * gh, d_hh + (b + 1) * gh, T(0));
        // A frozen sequence passes its carried gradient (and dc) through unchanged.
        std::memcpy(dh, carry + b * Ho, static_cast<std::size_t>(Ho) * sizeof(T));
      }
    }
    // Gradient reaching h_{t-1}: the part left in dh plus d_hh W_hh.
    gemm<T>(Trans::no, Trans::no, B, Ho, gh, T(1), d_hh, gh, w.w_hh, Ho, T(1), dh_all, Ho);
    std::swap(carry, dh_all);
  }

  if (io.dh0 != nullptr) std::memcpy(io.dh0, carry, static_cast<std::size_t>(B * Ho) * sizeof(T));
  if (io.dc0 != nullptr && lstm) {
    std::memcpy(io.dc0, io.dc_carry, static_cast<std::size_t>(B * H) * sizeof(T));
  }
}

template <class T>
void layer_input_gradient(const LayerProblem& p, const LayerWeights<T>& w,
                          const LayerBuffers<T>& buf, T* dx, bool accumulate) {
  const std::int64_t gh = p.desc->gates() * p.desc->hidden_size;
  gemm<T>(Trans::no, Trans::no, p.seq_len * p.batch, p.input_size(), gh, T(1), buf.d_ih, gh,
                w.w_ih, p.input_size(), accumulate ? T(1) : T(0), dx, p.input_size());
}

template <class T>
void layer_backward_weights(const LayerProblem& p, const LayerBuffers<T>& buf, const T* x,
                            const LayerGrads<T>& g, bool accumulate) {
  const RNNDescriptor& d = *p.desc;
  const std::int64_t rows = p.seq_len * p.batch, H = d.hidden_size, Ho = d.state_size();
  const std::int64_t gh = d.gates() * H, in = p.input_size();
  const T beta = accumulate ? T(1) : T(0);
  const T* d_hh = d.cell == CellKind::gru ? buf.d_hh : buf.d_ih;
  // h_{t-1} of every step, in time order: forward reads states 0..T-1, reverse 1..T.
  const T* h_prev = buf.h_states + (p.reverse ? p.batch * Ho : 0);

  gemm<T>(Trans::yes, Trans::no, gh, in, rows, T(1), buf.d_ih, gh, x, in, beta, g.w_ih, in);
  gemm<T>(Trans::yes, Trans::no, gh, Ho, rows, T(1), d_hh, gh, h_prev, Ho, beta, g.w_hh, Ho);
  if (g.b_ih != nullptr) column_sums(buf.d_ih, rows, gh, gh, g.b_ih, accumulate);
  if (g.b_hh != nullptr) column_sums(d_hh, rows, gh, gh, g.b_hh, accumulate);
  if (g.w_hr != nullptr) {
    gemm<T>(Trans::yes, Trans::no, Ho, H, rows, T(1), buf.d_h, Ho, buf.m, H, beta, g.w_hr, H);
  }
}

#define GPURNN_INSTANTIATE_LAYER_BACKWARD(T)                                                    \
  template void layer_backward_data<T>(const LayerProblem&, const LayerWeights<T>&,              \
                                       const LayerBuffers<T>&, const LayerBackwardIO<T>&);       \
  template void layer_input_gradient<T>(const LayerProblem&, const LayerWeights<T>&,             \
                                        const LayerBuffers<T>&, T*, bool);                       \
  template void layer_backward_weights<T>(const LayerProblem&, const LayerBuffers<T>&, const T*, \
                                          const LayerGrads<T>&, bool);
GPURNN_INSTANTIATE_LAYER_BACKWARD(float)
GPURNN_INSTANTIATE_LAYER_BACKWARD(double)
#undef GPURNN_INSTANTIATE_LAYER_BACKWARD

}  // namespace gpurnn::cpu
