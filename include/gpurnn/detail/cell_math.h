#pragma once
// The cell equations, written once, for one hidden unit of one sequence, shared by the CPU
// backend and every CUDA kernel (host and device inline functions, no memory access).
//
// Notation: `ih` is the input pre-activation W_ih x + b_ih of a gate, `hh` the recurrent one
// W_hh h + b_hh. Gate orders follow PyTorch: LSTM i, f, g, o; GRU r, z, n.
// Forward functions return the activated gates that backward needs; backward functions take
// them back and return gradients with respect to the pre-activations.

#include <math.h>

#include "gpurnn/detail/host_device.h"
#include "gpurnn/rnn_descriptor.h"

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

// Gates per hidden unit (gates_per_cell, usable in kernels): 4 LSTM, 3 GRU, 1 vanilla.
GPURNN_HOST_DEVICE int gate_count(CellKind cell) {
  return cell == CellKind::lstm ? 4 : cell == CellKind::gru ? 3 : 1;
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

}  // namespace gpurnn::detail
