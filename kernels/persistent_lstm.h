#pragma once
// The persistent LSTM kernel's launcher (kernels/persistent_lstm.cu): the launch arguments
// (kernels/persistent_lstm_args.h; engine/persistent_args.h makes them from a layer direction
// and its plan) and the plan's block shape in, the stream last.

#include <cuda_runtime.h>

#include <cstddef>

#include "gpurnn/half.h"
#include "persistent_lstm_args.h"

namespace gpurnn::cuda {

// Runs every step of one LSTM layer direction, or of both directions of a bidirectional layer
// (launch.directions), in one cooperative launch of launch.directions * launch.ctas_per_direction
// CTAs of `threads` threads and `shared_bytes` of dynamic shared memory on `stream`. The variant
// (staging, reduction) and the batch tile are read from launch.dirs[0].g; the gates hold the
// input pre-activations and the initial states are at their slots. Throws Error(unsupported)
// when the device cannot keep every CTA resident (the grid barrier would never open).
// Instantiated for (T, W) = (float, float), (double, double), and, for bf16/f16 calls, (float,
// gpurnn::bfloat16) and (float, gpurnn::float16): W_hh kept on chip in half, h_t rounded to it each
// step, the reduce-scatter reduction only (Error(unsupported) for kReduceFull).
template <class T, class W = T>
void launch_persistent_lstm(const kernels::PersistentLaunch<T, W>& launch, int threads, std::size_t shared_bytes,
                            cudaStream_t stream);

}  // namespace gpurnn::cuda
