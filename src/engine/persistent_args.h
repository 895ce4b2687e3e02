#pragma once
// The persistent kernel's launch arguments (kernels/persistent_lstm_args.h) from the engine's
// layer loop: one layer direction's problem, weights, buffers and outputs, and the plan. The
// CUDA backend launches what these make; the CPU simulator of the kernel runs the same.

#include "engine/layer_loop.h"
#include "engine/persistent_plan.h"
#include "kernels/persistent_lstm_args.h"

namespace gpurnn::engine {

// One direction's launch (dirs[1] unused), or both directions' (each argument set as
// persistent_args makes it; both from one plan).
template <class T, class W>
kernels::PersistentLaunch<T, W> persistent_launch(const PersistentPlan& plan,
                                                  const kernels::PersistentLstmArgs<T, W>& first) {
  return {{first, first}, 1, plan.ctas};
}
template <class T, class W>
kernels::PersistentLaunch<T, W> persistent_launch(const PersistentPlan& plan,
                                                  const kernels::PersistentLstmArgs<T, W>& forward,
                                                  const kernels::PersistentLstmArgs<T, W>& reverse) {
  return {{forward, reverse}, 2, plan.ctas};
}

// The kernel's arguments for one layer direction (engine::layer_forward's hook arguments).
template <class T>
kernels::PersistentLstmArgs<T> persistent_args(const PersistentPlan& plan, const LayerProblem& p,
                                               const LayerWeights<T>& w, const LayerBuffers<T>& buf,
                                               const LayerForwardIO<T>& io, int staging = kernels::kStageVectors,
                                               int reduction = kernels::kReduceScatter) {
  kernels::PersistentLstmArgs<T> a{};
  a.g = {static_cast<int>(p.desc->hidden_size), static_cast<int>(p.batch), static_cast<int>(p.seq_len),
         p.reverse,  plan.units_per_cta,           plan.batch_tile,          plan.batch_chunk,
         staging,    reduction};
  a.lengths = p.lengths;
  a.w_hh = w.w_hh;
  a.b_hh = w.b_hh;
  a.gates = buf.gates;
  a.h_states = buf.h_states;
  a.c_states = buf.c_states;
  a.y = io.y;
  a.ldy = io.ldy;
  return a;
}

// The same arguments with W_hh read from `w_hh`, the same elements in another storage type: a
// bf16/f16 call's own half weights (gpurnn::bfloat16 / float16), whose widened f32 copy
// persistent_args was given (CudaOps::half_weights_of maps one to the other).
template <class W, class T>
kernels::PersistentLstmArgs<T, W> with_weights(const kernels::PersistentLstmArgs<T>& a, const W* w_hh) {
  kernels::PersistentLstmArgs<T, W> out{};
  out.g = a.g;
  out.lengths = a.lengths;
  out.w_hh = w_hh;
  out.b_hh = a.b_hh;
  out.gates = a.gates;
  out.h_states = a.h_states;
  out.c_states = a.c_states;
  out.y = a.y;
  out.ldy = a.ldy;
  return out;
}

}  // namespace gpurnn::engine
