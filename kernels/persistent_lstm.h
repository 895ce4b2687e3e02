#pragma once
// The persistent LSTM kernel's launcher (kernels/persistent_lstm.cu) and the device limits its
// plan reads (internal header).

#include <cuda_runtime.h>

#include "engine/layer_loop.h"
#include "engine/persistent_plan.h"

namespace gpurnn::cuda {

// What engine::plan_persistent_lstm needs of cudaDeviceProp, for device `index`.
engine::DeviceLimits device_limits(int index);

// Runs every step of one LSTM layer direction in one cooperative launch on `stream`: the
// contract of engine::layer_forward's run_time_loop hook (buf.gates holds the input
// pre-activations, the initial states are at their slots). `plan` must fit the current device;
// throws Error(unsupported) when the device cannot keep plan.ctas CTAs resident. `staging`:
// engine::PersistentStaging (how each step's h_{t-1} reaches shared memory); `reduction`:
// engine::PersistentReduction (how a warp sums its dot products and applies the cell).
template <class T>
void launch_persistent_lstm(const engine::PersistentPlan& plan, const engine::LayerProblem& p,
                            const engine::LayerWeights<T>& w, const engine::LayerBuffers<T>& buf,
                            const engine::LayerForwardIO<T>& io, int staging, int reduction,
                            cudaStream_t stream);

// Both directions of a bidirectional layer in one cooperative launch (2 * plan.ctas CTAs; the
// current kernel: vector staging, reduce-scatter). `plan` is planned for half the device's SMs;
// otherwise as launch_persistent_lstm, for p[0] (forward) and p[1] (reverse).
template <class T>
void launch_persistent_lstm_pair(const engine::PersistentPlan& plan, const engine::LayerProblem (&p)[2],
                                 const engine::LayerWeights<T> (&w)[2], const engine::LayerBuffers<T> (&buf)[2],
                                 const engine::LayerForwardIO<T> (&io)[2], cudaStream_t stream);

}  // namespace gpurnn::cuda
