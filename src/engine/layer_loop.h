#pragma once
// One layer and one direction of the standard algorithm: the time loop and its GEMMs, written
// once over a backend's Ops (step_ops.h). Everything is time-major; network_loop.h handles
// layers, directions, dropout and layouts.
//
// Time loop of a direction: step s = 0..T-1 processes t = s (forward) or t = T-1-s (reverse).
// States are kept in [T+1, B, ·] buffers (see LayerDirSlots) so that the state before step t
// is at prev_index(t) and the state after it at next_index(t), in both directions.
// A sequence b is active at step t when t < length[b]; an inactive step leaves its state
// unchanged, writes zeros to y and zero gradients.

#include <cstdint>

#include <type_traits>
#include <utility>
#include <variant>

#include "engine/step_ops.h"
#include "gpurnn/rnn_descriptor.h"

namespace gpurnn::engine {

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
  T* d_hh = nullptr;  // null unless separate_hh_gradient (GRU); otherwise d_ih doubles as d_hh
  T* d_h = nullptr;
};

struct LayerProblem {
  const RNNDescriptor* desc;
  int layer;
  bool reverse;
  std::int64_t seq_len;          // T
  std::int64_t batch;            // B
  const std::int32_t* lengths;   // [B] or null (= all T), where the Ops read it

  std::int64_t input_size() const { return desc->layer_input_size(layer); }
  std::int64_t gates_width() const { return desc->gates() * desc->hidden_size; }
  // Saved values per row: cell_traits' saved_per_unit × H (a GRU's are r, z, n and W_hn h + b_hn).
  std::int64_t gate_stride() const { return detail::cell_traits(desc->cell).saved_per_unit * desc->hidden_size; }
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

// An Ops may run the whole time loop of a layer direction itself (the CUDA backend's persistent
// kernel) with `bool run_time_loop(const LayerProblem&, const LayerWeights<T>&,
// const LayerBuffers<T>&, const LayerForwardIO<T>&)`. layer_forward calls it once the input
// projection is in buf.gates and the initial states are at their slots; returning true, it has
// done what the loop below does: saved gates, every state slot, y; false leaves it to the loop.
template <class Ops, class = void>
struct has_time_loop_hook : std::false_type {};
template <class Ops>
struct has_time_loop_hook<Ops, std::void_t<decltype(&Ops::run_time_loop)>> : std::true_type {};

// The per-step GEMMs by a layer's weight matrices (W_hh, W_hr, forward and backward) go through
// WeightGemm: prepared once per layer call, run at every step. An Ops may hook the preparation
// (the CPU backend packs W for oneDNN's matmul there) by declaring `using FixedGemm = <handle>;`,
// `FixedGemm prepare_fixed_gemm(const FixedWeightGemm<T>&)` and
// `void run_fixed_gemm(const FixedGemm&, const T* a, T* c)`. The handle lives for one
// layer_forward / layer_backward_data call, never longer, so weights a caller changes in place
// between calls are always the ones used; only prepared weights (Backend::prepare), a snapshot
// the caller cannot change, keep handles across calls, in the Ops' PreparedCache
// (prepared_gemms.h). Without the hook every step is a plain ops.gemm.
template <class Ops, class = void>
struct fixed_gemm_hook {
  static constexpr bool value = false;
  using handle = std::monostate;
};
template <class Ops>
struct fixed_gemm_hook<Ops, std::void_t<typename Ops::FixedGemm>> {
  static constexpr bool value = true;
  using handle = typename Ops::FixedGemm;
};

template <class Ops>
class WeightGemm {
 public:
  using T = typename Ops::value_type;
  // g.w null: a GEMM the layer never runs (no projection), so nothing is prepared.
  WeightGemm(Ops& ops, const FixedWeightGemm<T>& g) : ops_(ops), g_(g), handle_(prepare(ops, g)) {}
  // C = A op(W) + beta C with this call's A and C.
  void operator()(const T* a, T* c) {
    if constexpr (kHook) {
      ops_.run_fixed_gemm(handle_, a, c);
    } else {
      ops_.gemm(Trans::no, g_.tw, g_.m, g_.n, g_.k, T(1), a, g_.lda, g_.w, g_.ldw, g_.beta, c, g_.ldc);
    }
  }

 private:
  static constexpr bool kHook = fixed_gemm_hook<Ops>::value;
  using Handle = typename fixed_gemm_hook<Ops>::handle;
  static Handle prepare(Ops& ops, const FixedWeightGemm<T>& g) {
    if constexpr (kHook) {
      if (g.w == nullptr) return {};
      return ops.prepare_fixed_gemm(g);
    } else {
      (void)ops, (void)g;
      return {};
    }
  }
  Ops& ops_;
  FixedWeightGemm<T> g_;
  Handle handle_;
};

// The input projection of a layer call, C = A op(W) + bias in every row (bias null: none), is
// one ops.gemm and an ops.add_bias_rows pass over C, unless the Ops declares
// `void gemm_bias_rows(const FixedWeightGemm<T>&, const T* a, const T* bias, T* c)` to do both
// at once (the CPU backend's f32 oneDNN matmul adds the bias as it writes C).
template <class Ops, class = void>
struct has_gemm_bias_rows_hook : std::false_type {};
template <class Ops>
struct has_gemm_bias_rows_hook<Ops, std::void_t<decltype(&Ops::gemm_bias_rows)>> : std::true_type {};

template <class Ops>
void gemm_bias_rows(Ops& ops, const FixedWeightGemm<typename Ops::value_type>& g,
                    const typename Ops::value_type* a, const typename Ops::value_type* bias,
                    typename Ops::value_type* c) {
  using T = typename Ops::value_type;
  if constexpr (has_gemm_bias_rows_hook<Ops>::value) {
    ops.gemm_bias_rows(g, a, bias, c);
  } else {
    ops.gemm(Trans::no, g.tw, g.m, g.n, g.k, T(1), a, g.lda, g.w, g.ldw, g.beta, c, g.ldc);
    ops.add_bias_rows(c, g.m, g.n, g.ldc, bias);
  }
}

// The final states out of their slots.
template <class Ops>
void finish_layer_forward(Ops& ops, const LayerProblem& p,
                          const LayerBuffers<typename Ops::value_type>& buf,
                          const LayerForwardIO<typename Ops::value_type>& io) {
  const RNNDescriptor& d = *p.desc;
  const std::int64_t B = p.batch, H = d.hidden_size, Ho = d.state_size();
  if (io.hn != nullptr) ops.copy(io.hn, buf.h_states + p.final_index() * B * Ho, B * Ho);
  if (io.cn != nullptr && d.has_cell_state()) {
    ops.copy(io.cn, buf.c_states + p.final_index() * B * H, B * H);
  }
}

// The part of a layer-direction forward before its time loop: the input projection of all
// steps into buf.gates and the initial states at their slots.
template <class Ops>
void layer_forward_prologue(Ops& ops, const LayerProblem& p, const LayerWeights<typename Ops::value_type>& w,
                            const LayerBuffers<typename Ops::value_type>& buf,
                            const LayerForwardIO<typename Ops::value_type>& io) {
  using T = typename Ops::value_type;
  const RNNDescriptor& d = *p.desc;
  const std::int64_t B = p.batch, H = d.hidden_size, Ho = d.state_size(), gh = p.gates_width();
  const std::int64_t S = p.gate_stride(), in = p.input_size();
  // Input projection of all steps at once: gates[t*B + b, 0..gh) = x W_ih^T + b_ih.
  gemm_bias_rows(ops, {Trans::yes, p.seq_len * B, gh, in, w.w_ih, in, in, S, T(0)}, io.x, w.b_ih, buf.gates);
  ops.copy_or_zero(buf.h_states + p.initial_index() * B * Ho, io.h0, B * Ho);
  if (d.has_cell_state()) ops.copy_or_zero(buf.c_states + p.initial_index() * B * H, io.c0, B * H);
}

// An Ops may run both directions of a bidirectional layer at once (the CUDA backend's persistent
// kernel, one cooperative launch) with `bool run_time_loop_pair(const LayerProblem (&)[2],
// const LayerWeights<T> (&)[2], const LayerBuffers<T> (&)[2], const LayerForwardIO<T> (&)[2])`:
// network_forward calls it after both directions' prologues; true means both time loops are
// done, false that each direction runs its own (layer_time_loop). The two directions' buffers
// are distinct (the inference workspace then holds a scratch per direction).
template <class Ops, class = void>
struct has_time_loop_pair_hook : std::false_type {};
template <class Ops>
struct has_time_loop_pair_hook<Ops, std::void_t<decltype(&Ops::run_time_loop_pair)>> : std::true_type {};

// The time loop of a layer direction after its prologue: the Ops' run_time_loop hook, or the
// standard per-step loop; then hn and cn.
template <class Ops>
void layer_time_loop(Ops& ops, const LayerProblem& p, const LayerWeights<typename Ops::value_type>& w,
                     const LayerBuffers<typename Ops::value_type>& buf,
                     const LayerForwardIO<typename Ops::value_type>& io) {
  using T = typename Ops::value_type;
  const RNNDescriptor& d = *p.desc;
  const std::int64_t B = p.batch, H = d.hidden_size, Ho = d.state_size(), gh = p.gates_width();
  const std::int64_t S = p.gate_stride();
  const bool lstm = d.has_cell_state(), proj = d.proj_size > 0;

  bool loop_done = false;
  if constexpr (has_time_loop_hook<Ops>::value) loop_done = ops.run_time_loop(p, w, buf, io);
  if (loop_done) {
    finish_layer_forward(ops, p, buf, io);
    return;
  }
  // Recurrent pre-activations of every sequence: hh = h_prev W_hh^T (b_hh added per step);
  // with a projection, h_next = m W_hr^T.
  WeightGemm<Ops> recurrent(ops, {Trans::yes, B, gh, Ho, w.w_hh, Ho, Ho, gh, T(0)});
  WeightGemm<Ops> projection(ops, {Trans::yes, B, Ho, H, w.w_hr, H, H, Ho, T(0)});
  for (std::int64_t step = 0; step < p.seq_len; ++step) {
    const std::int64_t t = p.time_at(step);
    const T* h_prev = buf.h_states + p.prev_index(t) * B * Ho;
    T* h_next = buf.h_states + p.next_index(t) * B * Ho;
    recurrent(h_prev, io.hh);
    ForwardStep<T> f{d.cell, t, B, H, Ho, p.lengths, buf.gates + t * B * S, S, io.hh, w.b_hh,
                     h_prev, h_next,
                     lstm ? buf.c_states + p.prev_index(t) * B * H : nullptr,
                     lstm ? buf.c_states + p.next_index(t) * B * H : nullptr,
                     proj ? buf.m + t * B * H : nullptr};
    ops.forward_step(f);
    if (proj) projection(f.m, h_next);
    ops.finish_forward_step(StepOutput<T>{t, B, Ho, p.lengths, h_prev, h_next, io.y + t * B * io.ldy, io.ldy});
  }
  finish_layer_forward(ops, p, buf, io);
}

// Runs the layer-direction forward, filling `buf` (gates, states) and the outputs.
template <class Ops>
void layer_forward(Ops& ops, const LayerProblem& p, const LayerWeights<typename Ops::value_type>& w,
                   const LayerBuffers<typename Ops::value_type>& buf,
                   const LayerForwardIO<typename Ops::value_type>& io) {
  layer_forward_prologue(ops, p, w, buf, io);
  layer_time_loop(ops, p, w, buf, io);
}

// Back-propagates through time: fills buf.d_ih (and d_hh, d_h) and the state gradients.
template <class Ops>
void layer_backward_data(Ops& ops, const LayerProblem& p,
                         const LayerWeights<typename Ops::value_type>& w,
                         const LayerBuffers<typename Ops::value_type>& buf,
                         const LayerBackwardIO<typename Ops::value_type>& io) {
  using T = typename Ops::value_type;
  const RNNDescriptor& d = *p.desc;
  const std::int64_t B = p.batch, H = d.hidden_size, Ho = d.state_size(), gh = p.gates_width();
  const std::int64_t S = p.gate_stride();
  const bool lstm = d.has_cell_state(), proj = d.proj_size > 0;
  const bool separate_hh = detail::cell_traits(d.cell).separate_hh_gradient;
  T* d_hh_all = separate_hh ? buf.d_hh : buf.d_ih;

  // `carry` is the gradient reaching h_t from later steps; `dh` the per-step scratch. They swap
  // roles each step, so no copy is needed.
  T* carry = io.dh_carry;
  T* dh = io.dh;
  ops.copy_or_zero(carry, io.dhn, B * Ho);
  if (lstm) ops.copy_or_zero(io.dc_carry, io.dcn, B * H);
  // dh += d_hh W_hh (the gradient reaching h_{t-1}); dm = dh W_hr through the projection.
  WeightGemm<Ops> recurrent(ops, {Trans::no, B, Ho, gh, w.w_hh, Ho, gh, Ho, T(1)});
  WeightGemm<Ops> projection(ops, {Trans::no, B, H, Ho, w.w_hr, H, Ho, H, T(0)});

  for (std::int64_t step = p.seq_len - 1; step >= 0; --step) {
    const std::int64_t t = p.time_at(step);
    ops.output_gradient(OutputGradient<T>{t, B, Ho, p.lengths, carry, io.dy + t * B * io.ldy, io.ldy, dh});
    // Through the projection h = W_hr m: keep dh for dW_hr, dm = dh W_hr.
    if (proj) {
      ops.copy(buf.d_h + t * B * Ho, dh, B * Ho);
      projection(dh, io.dm);
    }
    T* d_hh = d_hh_all + t * B * gh;
    ops.backward_step(BackwardStep<T>{
        d.cell, t, B, H, Ho, p.lengths, buf.gates + t * B * S, S,
        buf.h_states + p.prev_index(t) * B * Ho,
        lstm ? buf.c_states + p.prev_index(t) * B * H : nullptr,
        lstm ? buf.c_states + p.next_index(t) * B * H : nullptr, proj ? io.dm : nullptr, dh, carry,
        lstm ? io.dc_carry : nullptr, buf.d_ih + t * B * gh, separate_hh ? d_hh : nullptr});
    // Gradient reaching h_{t-1}: the part left in dh plus d_hh W_hh.
    recurrent(d_hh, dh);
    std::swap(carry, dh);
  }
  if (io.dh0 != nullptr) ops.copy(io.dh0, carry, B * Ho);
  if (io.dc0 != nullptr && lstm) ops.copy(io.dc0, io.dc_carry, B * H);
}

// dx (+)= d_ih · W_ih over all steps: [T*B, G*H] x [G*H, I_l].
template <class Ops>
void layer_input_gradient(Ops& ops, const LayerProblem& p,
                          const LayerWeights<typename Ops::value_type>& w,
                          const LayerBuffers<typename Ops::value_type>& buf,
                          typename Ops::value_type* dx, bool accumulate) {
  using T = typename Ops::value_type;
  const std::int64_t gh = p.gates_width(), in = p.input_size();
  ops.gemm(Trans::no, Trans::no, p.seq_len * p.batch, in, gh, T(1), buf.d_ih, gh, w.w_ih, in,
           accumulate ? T(1) : T(0), dx, in);
}

// Parameter gradients from the saved buffers: single GEMMs over all T*B rows.
// x is the layer's input [T, B, I_l]. Bias and projection gradients are null when absent.
template <class Ops>
void layer_backward_weights(Ops& ops, const LayerProblem& p,
                            const LayerBuffers<typename Ops::value_type>& buf,
                            const typename Ops::value_type* x,
                            const LayerGrads<typename Ops::value_type>& g, bool accumulate) {
  using T = typename Ops::value_type;
  const RNNDescriptor& d = *p.desc;
  const std::int64_t rows = p.seq_len * p.batch, H = d.hidden_size, Ho = d.state_size();
  const std::int64_t gh = p.gates_width(), in = p.input_size();
  const T beta = accumulate ? T(1) : T(0);
  const T* d_hh = detail::cell_traits(d.cell).separate_hh_gradient ? buf.d_hh : buf.d_ih;
  // h_{t-1} of every step, in time order: forward reads states 0..T-1, reverse 1..T.
  const T* h_prev = buf.h_states + (p.reverse ? p.batch * Ho : 0);

  ops.gemm(Trans::yes, Trans::no, gh, in, rows, T(1), buf.d_ih, gh, x, in, beta, g.w_ih, in);
  ops.gemm(Trans::yes, Trans::no, gh, Ho, rows, T(1), d_hh, gh, h_prev, Ho, beta, g.w_hh, Ho);
  if (g.b_ih != nullptr) ops.column_sums(buf.d_ih, rows, gh, gh, g.b_ih, accumulate);
  if (g.b_hh != nullptr) {
    // Vanilla and LSTM cells: both bias gradients are the column sums of d_ih; overwriting, the
    // second is a copy of the first rather than a second pass over T*B rows.
    if (d_hh == buf.d_ih && g.b_ih != nullptr && !accumulate) {
      ops.copy(g.b_hh, g.b_ih, gh);
    } else {
      ops.column_sums(d_hh, rows, gh, gh, g.b_hh, accumulate);
    }
  }
  if (g.w_hr != nullptr) {
    ops.gemm(Trans::yes, Trans::no, Ho, H, rows, T(1), buf.d_h, Ho, buf.m, H, beta, g.w_hr, H);
  }
}

}  // namespace gpurnn::engine
