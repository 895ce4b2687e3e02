#pragma once
// What the persistent LSTM kernel (persistent_lstm.cu) is launched with: its variants, its
// limits, the problem and plan as the kernel sees them and each direction's device pointers.
// Plain data and host/device arithmetic: the planner (src/engine/persistent_plan.h) and the CPU
// simulator of the kernel read the same definitions.

#include <cstdint>

#include "gpurnn/detail/host_device.h"

namespace gpurnn::kernels {

// How the persistent kernel brings each step's h_{t-1} into shared memory
// (kernels/persistent_lstm_map.h, stage_h_chunk). Both are kept so that a GPU run times them side
// by side: cuda algorithms "persistent" (vectors) and "persistent_elementwise_stage" (elements,
// with kReduceFull: the kernel's first version as a whole).
enum PersistentStaging : int {
  kStageVectors = 0,   // the chunk as one contiguous range: 16-byte L2 loads, 4 in flight per thread
  kStageElements = 1,  // the first version: one element per iteration, its (row, k) by division
};

// How a warp sums its lanes' partial dot products and which lanes apply the cell
// (kernels/persistent_lstm_map.h, reduce_scatter and the apply_* phases). Both are kept so a GPU
// run times them side by side: "persistent" (scatter) and "persistent_full_reduce" (full).
enum PersistentReduction : int {
  kReduceScatter = 0,  // a reduce-scatter butterfly (16 shuffles for 4 x 4 sums, not 80); each lane
                       // activates one gate and the four lanes of a sequence share them by shuffles
  kReduceFull = 1,     // the first version: every sum on every lane; lanes < BT apply the cell
};

constexpr int kPersistentMaxWarps = 8;
constexpr int kPersistentMaxThreads = 32 * kPersistentMaxWarps;
// Elements of shared memory one CTA uses when W_hh is kept in the state's type (f32, f64; the
// layout of engine/persistent_plan.h).
GPURNN_HOST_DEVICE std::int64_t persistent_shared_elements(std::int64_t hidden, std::int64_t units,
                                                           std::int64_t batch, std::int64_t batch_chunk) {
  return 4 * units * hidden + batch_chunk * hidden + units * batch;
}
// Bytes of the CTA's W_hh slice of `weight_size`-byte elements, rounded up to 16 so that the h
// chunk after it stays 16-byte aligned (no padding in f32 and f64: 4*U*H*4 is a multiple of 16).
GPURNN_HOST_DEVICE std::int64_t persistent_weight_bytes(std::int64_t hidden, std::int64_t units,
                                                        std::int64_t weight_size) {
  return (4 * units * hidden * weight_size + 15) / 16 * 16;
}
// Bytes of shared memory one CTA uses: W_hh slice in `weight_size`-byte elements (2 for the
// bf16/f16 weights of a half call), h chunk and cell state in `state_size`-byte ones (4, 8).
// With weight_size == state_size, persistent_shared_elements * state_size.
GPURNN_HOST_DEVICE std::int64_t persistent_shared_bytes(std::int64_t hidden, std::int64_t units, std::int64_t batch,
                                                        std::int64_t batch_chunk, std::int64_t state_size,
                                                        std::int64_t weight_size) {
  return persistent_weight_bytes(hidden, units, weight_size) + (batch_chunk * hidden + units * batch) * state_size;
}

// The batch tile for a batch: 1, 2, or 4 sequences per warp item.
GPURNN_HOST_DEVICE int persistent_batch_tile(std::int64_t batch) {
  return batch <= 1 ? 1 : batch == 2 ? 2 : 4;
}

// The problem and the plan, as the kernel sees them.
struct PersistentGeometry {
  int hidden;         // H
  int batch;          // B
  int seq_len;        // T
  bool reverse;       // step s processes t = T-1-s
  int units_per_cta;  // U
  int batch_tile;     // BT
  int batch_chunk;    // BC
  int staging = kStageVectors;     // PersistentStaging
  int reduction = kReduceScatter;  // PersistentReduction
};

// T: the type the kernel computes and keeps states in (float, double). W: the type of W_hh, in
// global memory and on chip: T, or, in a bf16/f16 call (T float), gpurnn::bfloat16 or
// gpurnn::float16 (kernels/persistent_lstm_map.h, WeightStorage), whose kernel also rounds each
// h_t to W's type (the precision rule). Everything else is T: b_hh and the gates of a half call
// are its widened f32 values.
template <class T, class W = T>
struct PersistentLstmArgs {
  PersistentGeometry g;
  const std::int32_t* lengths;  // [B] or null (every sequence has T steps)
  const W* w_hh;                // [4H, H]
  const T* b_hh;                // [4H] or null
  T* gates;                     // [T, B, 4H]: input pre-activations in, activated gates out
  T* h_states;                  // [T+1, B, H]: the initial state at its slot in
  T* c_states;                  // [T+1, B, H]: likewise
  T* y;                         // [T, B, ldy] at this direction's first column
  std::int64_t ldy;
};

// One cooperative launch runs one direction of a layer, or both (a bidirectional layer whose
// paired plan fits: engine::plan_persistent_lstm on half the SMs): grid CTAs [0, ctas) run
// dirs[0] and [ctas, 2 ctas) run dirs[1]. Both directions take seq_len steps and touch
// disjoint buffers (their own gates and state slots, their own columns of y), so the one grid
// barrier per step serves both.
template <class T, class W = T>
struct PersistentLaunch {
  PersistentLstmArgs<T, W> dirs[2];
  int directions;          // 1 or 2
  int ctas_per_direction;  // the plan's ctas
};

}  // namespace gpurnn::kernels
