#pragma once
// The cell equations, written once, for one hidden unit of one sequence, shared by the CPU
// backend and every CUDA kernel (host and device inline functions, no memory access).
//
// Notation: `ih` is the input pre-activation W_ih x + b_ih of a gate, `hh` the recurrent one
// W_hh h + b_hh. Gate orders follow PyTorch: LSTM i, f, g, o; GRU r, z, n.
// Forward functions return the activated gates that backward needs; backward functions take
// them back and return gradients with respect to the pre-activations.

#include <math.h>

#include "gpurnn/cell_kind.h"
#include "gpurnn/detail/host_device.h"

namespace gpurnn::detail {

// Overloads by precision that resolve to the same C functions on host and device.
GPURNN_HOST_DEVICE float tanh_of(float x) { return ::tanhf(x); }
GPURNN_HOST_DEVICE double tanh_of(double x) { return ::tanh(x); }
GPURNN_HOST_DEVICE float exp_of(float x) { return ::expf(x); }
GPURNN_HOST_DEVICE double exp_of(double x) { return ::exp(x); }

template <class T>
GPURNN_HOST_DEVICE T sigmoid(T x) {
  return T(1) / (T(1) + exp_of(-x));
}

// ---- vanilla RNN: h' = act(ih + hh) -------------------------------------------------------

template <class T>
GPURNN_HOST_DEVICE T vanilla_activation(CellKind cell, T pre) {
  switch (cell) {
    case CellKind::rnn_relu: return pre > T(0) ? pre : T(0);
    case CellKind::rnn_sigmoid: return sigmoid(pre);
    default: return tanh_of(pre);
  }
}

// d act / d pre, written in terms of the output h = act(pre).
template <class T>
GPURNN_HOST_DEVICE T vanilla_activation_derivative(CellKind cell, T h) {
  switch (cell) {
    case CellKind::rnn_relu: return h > T(0) ? T(1) : T(0);
    case CellKind::rnn_sigmoid: return h * (T(1) - h);
    default: return T(1) - h * h;
  }
}

// ---- LSTM ---------------------------------------------------------------------------------
// i = σ(.), f = σ(.), g = tanh(.), o = σ(.);  c' = f c + i g;  m = o tanh(c')
// (m is h' without projection; with projection h' = W_hr m, applied outside).

template <class T>
struct LstmGates {
  T i, f, g, o;
};

template <class T>
struct LstmStep {
  LstmGates<T> gates;
  T c;  // new cell state
  T m;  // o ⊙ tanh(c)
};

// Gate `gate` (0 i, 1 f, 2 g, 3 o) of its pre-activation: tanh for g, the sigmoid otherwise.
template <class T>
GPURNN_HOST_DEVICE T lstm_gate_activation(int gate, T pre) {
  return gate == 2 ? tanh_of(pre) : sigmoid(pre);
}

// The cell update from activated gates: c' = f c + i g, m = o tanh(c'). (A kernel whose lanes
// each activate one gate gathers the four and calls this.)
template <class T>
GPURNN_HOST_DEVICE LstmStep<T> lstm_update(const LstmGates<T>& gates, T c_prev) {
  LstmStep<T> s;
  s.gates = gates;
  s.c = gates.f * c_prev + gates.i * gates.g;
  s.m = gates.o * tanh_of(s.c);
  return s;
}

template <class T>
GPURNN_HOST_DEVICE LstmStep<T> lstm_forward(const T ih[4], const T hh[4], T c_prev) {
  const LstmGates<T> gates{lstm_gate_activation(0, ih[0] + hh[0]), lstm_gate_activation(1, ih[1] + hh[1]),
                           lstm_gate_activation(2, ih[2] + hh[2]), lstm_gate_activation(3, ih[3] + hh[3])};
  return lstm_update(gates, c_prev);
}

template <class T>
struct LstmGrad {
  T d_pre[4];  // gradient of the i, f, g, o pre-activations (same for ih and hh)
  T dc_prev;   // gradient flowing to c_{t-1}
};

// dm: gradient of m = o tanh(c); dc_next: gradient of c arriving from step t+1.
template <class T>
GPURNN_HOST_DEVICE LstmGrad<T> lstm_backward(const LstmGates<T>& g, T c, T c_prev, T dm,
                                             T dc_next) {
  const T tc = tanh_of(c);
  const T dc = dc_next + dm * g.o * (T(1) - tc * tc);
  LstmGrad<T> r;
  r.d_pre[0] = dc * g.g * g.i * (T(1) - g.i);
  r.d_pre[1] = dc * c_prev * g.f * (T(1) - g.f);
  r.d_pre[2] = dc * g.i * (T(1) - g.g * g.g);
  r.d_pre[3] = dm * tc * g.o * (T(1) - g.o);
  r.dc_prev = dc * g.f;
  return r;
}

// ---- GRU ----------------------------------------------------------------------------------
// r = σ(ih_r + hh_r), z = σ(ih_z + hh_z), n = tanh(ih_n + r hh_n), h' = (1 - z) n + z h.

template <class T>
struct GruGates {
  T r, z, n;
  T hh_n;  // W_hn h + b_hn, needed for the gradient of r
};

template <class T>
struct GruStep {
  GruGates<T> gates;
  T h;
};

template <class T>
GPURNN_HOST_DEVICE GruStep<T> gru_forward(const T ih[3], const T hh[3], T h_prev) {
  GruStep<T> s;
  s.gates.r = sigmoid(ih[0] + hh[0]);
  s.gates.z = sigmoid(ih[1] + hh[1]);
  s.gates.hh_n = hh[2];
  s.gates.n = tanh_of(ih[2] + s.gates.r * hh[2]);
  s.h = (T(1) - s.gates.z) * s.gates.n + s.gates.z * h_prev;
  return s;
}

template <class T>
struct GruGrad {
  T d_ih[3];    // gradient of the input pre-activations r, z, n
  T d_hh[3];    // gradient of the recurrent pre-activations (differs from d_ih in n: × r)
  T dh_direct;  // gradient reaching h_{t-1} through z ⊙ h (the rest goes through W_hh)
};

template <class T>
GPURNN_HOST_DEVICE GruGrad<T> gru_backward(const GruGates<T>& g, T h_prev, T dh) {
  const T dn_pre = dh * (T(1) - g.z) * (T(1) - g.n * g.n);
  const T dz_pre = dh * (h_prev - g.n) * g.z * (T(1) - g.z);
  const T dr_pre = dn_pre * g.hh_n * g.r * (T(1) - g.r);
  GruGrad<T> r;
  r.d_ih[0] = dr_pre;
  r.d_ih[1] = dz_pre;
  r.d_ih[2] = dn_pre;
  r.d_hh[0] = dr_pre;
  r.d_hh[1] = dz_pre;
  r.d_hh[2] = dn_pre * g.r;
  r.dh_direct = dh * g.z;
  return r;
}

// ---- any cell, one unit of one row ---------------------------------------------------------
// The form the CPU rows and the step kernels share: a row's gates laid out gate-major,
// gates[k*H + j] for gate k of unit j, `H` units. Forward reads the input pre-activations there
// and leaves the saved values (cell_traits' saved_per_unit of them) in their place.

template <class T>
struct UnitForward {
  T out;  // h' (m' for an LSTM, before any projection)
  T c;    // the new cell state (LSTM; 0 otherwise)
};

// Unit j of one row. `hh` holds the row's recurrent pre-activations W_hh h (gate-major like
// gates), `b_hh` their bias or null. The row's h_prev is read by a cell that blends_state
// (GRU), its c_prev by one with a cell_state (LSTM); either may be null otherwise.
template <class T, class Index>
GPURNN_HOST_DEVICE UnitForward<T> cell_unit_forward(CellKind cell, Index H, Index j, T* gates,
                                                    const T* hh, const T* b_hh, const T* h_prev,
                                                    const T* c_prev) {
  auto rec = [&](Index k) { return hh[k] + (b_hh ? b_hh[k] : T(0)); };
  UnitForward<T> r{T(0), T(0)};
  if (cell == CellKind::lstm) {
    const T ih4[4] = {gates[j], gates[H + j], gates[2 * H + j], gates[3 * H + j]};
    const T hh4[4] = {rec(j), rec(H + j), rec(2 * H + j), rec(3 * H + j)};
    const LstmStep<T> s = lstm_forward(ih4, hh4, c_prev[j]);
    gates[j] = s.gates.i;
    gates[H + j] = s.gates.f;
    gates[2 * H + j] = s.gates.g;
    gates[3 * H + j] = s.gates.o;
    r.out = s.m;
    r.c = s.c;
  } else if (cell == CellKind::gru) {
    const T ih3[3] = {gates[j], gates[H + j], gates[2 * H + j]};
    const T hh3[3] = {rec(j), rec(H + j), rec(2 * H + j)};
    const GruStep<T> s = gru_forward(ih3, hh3, h_prev[j]);
    gates[j] = s.gates.r;
    gates[H + j] = s.gates.z;
    gates[2 * H + j] = s.gates.n;
    gates[3 * H + j] = s.gates.hh_n;
    r.out = s.h;
  } else {
    gates[j] = vanilla_activation(cell, gates[j] + rec(j));
    r.out = gates[j];
  }
  return r;
}

template <class T>
struct UnitBackward {
  T dc_prev;    // gradient reaching c_{t-1} (LSTM; 0 otherwise)
  T dh_direct;  // gradient reaching h_{t-1} outside W_hh (GRU: z ⊙ dh; 0 otherwise)
};

// Unit j of one row: from the saved gates and `grad` (dm with a projection, else dh) writes the
// pre-activation gradients d_ih[k*H + j] and, for a cell with separate_hh_gradient, d_hh. The
// row's c_prev, c_next and dc_next (the gradient of c_t) are read by an LSTM, h_prev by a GRU;
// they may be null otherwise.
template <class T, class Index>
GPURNN_HOST_DEVICE UnitBackward<T> cell_unit_backward(CellKind cell, Index H, Index j, const T* gates,
                                                      T grad, const T* h_prev, const T* c_prev,
                                                      const T* c_next, const T* dc_next, T* d_ih,
                                                      T* d_hh) {
  UnitBackward<T> r{T(0), T(0)};
  if (cell == CellKind::lstm) {
    const LstmGates<T> g{gates[j], gates[H + j], gates[2 * H + j], gates[3 * H + j]};
    const LstmGrad<T> s = lstm_backward(g, c_next[j], c_prev[j], grad, dc_next[j]);
    for (int k = 0; k < 4; ++k) d_ih[k * H + j] = s.d_pre[k];
    r.dc_prev = s.dc_prev;
  } else if (cell == CellKind::gru) {
    const GruGates<T> g{gates[j], gates[H + j], gates[2 * H + j], gates[3 * H + j]};
    const GruGrad<T> s = gru_backward(g, h_prev[j], grad);
    for (int k = 0; k < 3; ++k) {
      d_ih[k * H + j] = s.d_ih[k];
      d_hh[k * H + j] = s.d_hh[k];
    }
    r.dh_direct = s.dh_direct;
  } else {
    d_ih[j] = grad * vanilla_activation_derivative(cell, gates[j]);
  }
  return r;
}

}  // namespace gpurnn::detail
