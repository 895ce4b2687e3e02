// Forward time loop of one layer-direction on the CPU: one GEMM for the input projection of all
// steps, then per step one recurrent GEMM and one pointwise pass over all gates
// (detail/cell_math.h), plus the projection GEMM for an LSTM with proj_size.

#include <algorithm>
#include <cstring>

#include "cpu/blas.h"
#include "cpu/layer_ops.h"
#include "gpurnn/detail/cell_math.h"

namespace gpurnn::cpu {
namespace {

// Row-broadcast add: rows[r, 0..n) += bias[0..n) for r < count, rows ld apart.
template <class T>
void add_bias_rows(T* rows, std::int64_t count, std::int64_t n, std::int64_t ld, const T* bias) {
  if (bias == nullptr) return;
  for (std::int64_t r = 0; r < count; ++r) {
    T* row = rows + r * ld;
    for (std::int64_t j = 0; j < n; ++j) row[j] += bias[j];
  }
}

template <class T>
void copy_or_zero(T* dst, const T* src, std::int64_t n) {
  if (src != nullptr) {
    std::memcpy(dst, src, static_cast<std::size_t>(n) * sizeof(T));
  } else {
    std::fill(dst, dst + n, T(0));
  }
}

// Applies the gates of one active sequence at one step. `gates` holds the input pre-activations
// on entry (width G*H for vanilla/LSTM, the first 3*H of 4*H for GRU) and the saved gates on
// exit; `hh` holds W_hh h + b_hh. Writes the new c (LSTM), and m (LSTM) or h (others) to `out`.
template <class T>
void pointwise_forward(CellKind cell, std::int64_t h, T* gates, const T* hh, const T* h_prev,
                       const T* c_prev, T* c_next, T* out) {
  if (cell == CellKind::lstm) {
    for (std::int64_t j = 0; j < h; ++j) {
      const T ih4[4] = {gates[j], gates[h + j], gates[2 * h + j], gates[3 * h + j]};
      const T hh4[4] = {hh[j], hh[h + j], hh[2 * h + j], hh[3 * h + j]};
      const detail::LstmStep<T> s = detail::lstm_forward(ih4, hh4, c_prev[j]);
      gates[j] = s.gates.i;
      gates[h + j] = s.gates.f;
      gates[2 * h + j] = s.gates.g;
      gates[3 * h + j] = s.gates.o;
      c_next[j] = s.c;
      out[j] = s.m;
    }
  } else if (cell == CellKind::gru) {
    for (std::int64_t j = 0; j < h; ++j) {
      const T ih3[3] = {gates[j], gates[h + j], gates[2 * h + j]};
      const T hh3[3] = {hh[j], hh[h + j], hh[2 * h + j]};
      const detail::GruStep<T> s = detail::gru_forward(ih3, hh3, h_prev[j]);
      gates[j] = s.gates.r;
      gates[h + j] = s.gates.z;
      gates[2 * h + j] = s.gates.n;
      gates[3 * h + j] = s.gates.hh_n;
      out[j] = s.h;
    }
  } else {
    for (std::int64_t j = 0; j < h; ++j) {
      gates[j] = detail::vanilla_activation(cell, gates[j] + hh[j]);
      out[j] = gates[j];
    }
  }
}

}  // namespace

template <class T>
void layer_forward(const LayerProblem& p, const LayerWeights<T>& w, const LayerBuffers<T>& buf,
                   const LayerForwardIO<T>& io) {
  const RNNDescriptor& d = *p.desc;
  const CellKind cell = d.cell;
  const std::int64_t B = p.batch, H = d.hidden_size, Ho = d.state_size();
  const std::int64_t gh = d.gates() * H;
  const std::int64_t S = cell == CellKind::gru ? 4 * H : gh;  // gate storage per row
  const bool lstm = cell == CellKind::lstm, proj = d.proj_size > 0;

  // Input projection of all steps at once: gates[t*B + b, 0..gh) = x W_ih^T + b_ih.
  gemm<T>(Trans::no, Trans::yes, p.seq_len * B, gh, p.input_size(), T(1), io.x,
                p.input_size(), w.w_ih, p.input_size(), T(0), buf.gates, S);
  add_bias_rows(buf.gates, p.seq_len * B, gh, S, w.b_ih);

  copy_or_zero(buf.h_states + p.initial_index() * B * Ho, io.h0, B * Ho);
  if (lstm) copy_or_zero(buf.c_states + p.initial_index() * B * H, io.c0, B * H);

  for (std::int64_t step = 0; step < p.seq_len; ++step) {
    const std::int64_t t = p.time_at(step);
    const T* h_prev = buf.h_states + p.prev_index(t) * B * Ho;
    T* h_next = buf.h_states + p.next_index(t) * B * Ho;
    const T* c_prev = lstm ? buf.c_states + p.prev_index(t) * B * H : nullptr;
    T* c_next = lstm ? buf.c_states + p.next_index(t) * B * H : nullptr;
    T* m_t = proj ? buf.m + t * B * H : nullptr;

    // Recurrent pre-activations of every sequence: hh = h_prev W_hh^T + b_hh.
    gemm<T>(Trans::no, Trans::yes, B, gh, Ho, T(1), h_prev, Ho, w.w_hh, Ho, T(0), io.hh, gh);
    add_bias_rows(io.hh, B, gh, gh, w.b_hh);

    for (std::int64_t b = 0; b < B; ++b) {
      T* gates = buf.gates + (t * B + b) * S;
      if (t < p.length(b)) {
        T* out = proj ? m_t + b * H : h_next + b * Ho;
        pointwise_forward(cell, H, gates, io.hh + b * gh, h_prev + b * Ho,
                          lstm ? c_prev + b * H : nullptr, lstm ? c_next + b * H : nullptr, out);
      } else {
        std::fill(gates, gates + S, T(0));
        if (proj) std::fill(m_t + b * H, m_t + (b + 1) * H, T(0));
        if (lstm) std::memcpy(c_next + b * H, c_prev + b * H, static_cast<std::size_t>(H) * sizeof(T));
      }
    }
    // Projection h = m W_hr^T, then frozen sequences keep their state.
    if (proj) gemm<T>(Trans::no, Trans::yes, B, Ho, H, T(1), m_t, H, w.w_hr, H, T(0), h_next, Ho);
    for (std::int64_t b = 0; b < B; ++b) {
      T* y_row = io.y + (t * B + b) * io.ldy;
      if (t < p.length(b)) {
        std::memcpy(y_row, h_next + b * Ho, static_cast<std::size_t>(Ho) * sizeof(T));
      } else {
        std::memcpy(h_next + b * Ho, h_prev + b * Ho, static_cast<std::size_t>(Ho) * sizeof(T));
        std::fill(y_row, y_row + Ho, T(0));
      }
    }
  }

  if (io.hn != nullptr) {
    std::memcpy(io.hn, buf.h_states + p.final_index() * B * Ho, static_cast<std::size_t>(B * Ho) * sizeof(T));
  }
  if (io.cn != nullptr && lstm) {
    std::memcpy(io.cn, buf.c_states + p.final_index() * B * H, static_cast<std::size_t>(B * H) * sizeof(T));
  }
}

template void layer_forward<float>(const LayerProblem&, const LayerWeights<float>&,
                                   const LayerBuffers<float>&, const LayerForwardIO<float>&);
template void layer_forward<double>(const LayerProblem&, const LayerWeights<double>&,
                                    const LayerBuffers<double>&, const LayerForwardIO<double>&);

}  // namespace gpurnn::cpu
