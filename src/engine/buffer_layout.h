#pragma once
// Where every buffer of the standard algorithm lives inside the caller's workspace and reserve,
// for every backend that runs it (cpu, cuda). A pure function of (descriptor, shape, mode,
// element size): the size queries and the calls carve memory the same way. Offsets are in
// bytes, each slot aligned to 64 bytes.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "gpurnn/backend.h"

namespace gpurnn::engine {

struct Slot {
  std::size_t offset = 0;  // bytes from the buffer start
  std::size_t bytes = 0;   // 0 = not used for this problem

  template <class T>
  T* in(void* base) const {
    return bytes == 0 ? nullptr : reinterpret_cast<T*>(static_cast<unsigned char*>(base) + offset);
  }
  template <class T>
  const T* in(const void* base) const {
    return in<T>(const_cast<void*>(base));
  }
};

// What one layer and direction keeps, in time-major order. S = gate storage per step:
// G*H for vanilla and LSTM (activated gates), 4*H for GRU (r, z, n and W_hn h + b_hn).
struct LayerDirSlots {
  Slot gates;     // [T, B, S]
  Slot h_states;  // [T+1, B, H_out]: forward: h0 at 0, state after step t at t+1;
                  //                  reverse: h0 at T, state after step t at t
  Slot c_states;  // [T+1, B, H]   (LSTM), indexed like h_states
  Slot m;         // [T, B, H]     (LSTM with projection): o ⊙ tanh(c) before W_hr
  Slot d_ih;      // [T, B, G*H]   gradient of the input pre-activations (training only)
  Slot d_hh;      // [T, B, G*H]   gradient of the recurrent pre-activations (GRU only)
  Slot d_h;       // [T, B, H_out] gradient of h_t (LSTM with projection only)
};

// The first bytes of a reserve: what filled it, so backward can refuse a reserve that no
// training forward of the same shape filled, or that backward_data has not processed yet.
struct ReserveHeader {
  static constexpr std::uint64_t kMagic = 0x67707572'6e6e5253ULL;  // "gpurnnRS"
  enum Stage : std::uint64_t { forward_done = 1, backward_data_done = 2 };
  std::uint64_t magic;
  std::uint64_t stage;
  std::uint64_t dropout_seed;
  std::int64_t seq_len;
  std::int64_t batch;
  std::uint64_t lengths_digest;  // lengths_digest() of the forward's lengths
};

// A digest of a call's effective lengths (`lengths` null: T for every row), which the training
// forward records so that backward_data refuses other lengths. FNV-1a over the B values.
std::uint64_t lengths_digest(const std::int32_t* lengths, std::int64_t seq_len, std::int64_t batch);
// The same for an optional lengths argument (int32 [B] on the CPU, or empty).
std::uint64_t lengths_digest(ConstTensorView lengths, std::int64_t seq_len, std::int64_t batch);

struct ReserveLayout {
  Slot header;                        // ReserveHeader
  std::vector<LayerDirSlots> layers;  // index l*D + d
  std::vector<Slot> layer_input;      // [T, B, D*H_out] input of layer l >= 1, after dropout
  std::size_t bytes = 0;
};

struct WorkspaceLayout {
  Slot lengths;          // [B] int32: the lengths where the backend's kernels can read them
  Slot x_time_major;     // [T, B, I]       batch_first only (dx in backward_data)
  Slot y_time_major;     // [T, B, D*H_out] batch_first only (dy in backward_data)
  Slot layer_io[2];      // [T, B, D*H_out] inference: outputs of inner layers
  LayerDirSlots scratch; // inference: the per-layer buffers a training call keeps in the reserve
  LayerDirSlots scratch_reverse;  // inference, bidirectional, scratch_per_direction: the reverse
                                  // direction's own (both directions run at once)
  bool scratch_per_direction = false;
  Slot hh;               // [B, G*H]       recurrent pre-activations of one step
  Slot d_layer[2];       // [T, B, D*H_out] backward: gradient of an inner layer's input
  Slot dh;               // [B, H_out]     backward: gradient of h_t at one step
  Slot dh_carry;         // [B, H_out]
  Slot dc_carry;         // [B, H]
  Slot dm;               // [B, H]
  std::size_t bytes = 0;
};

// The workspace of a call in a half dtype (bf16, f16; half_calls.h): the f32 copies the f32
// network computes on, then that network's own f32 workspace. A training workspace serves the
// backward calls too: dx and dy take the x and y slots, dhn/dcn the h0/c0 slots, dh0/dc0 the
// hn/cn slots. The weights slot holds the widened weights of a call not given prepared ones.
struct HalfStagingLayout {
  Slot weights;  // [numel] f32
  Slot x;        // like x, f32
  Slot y;        // like y, f32
  Slot h0, c0;   // [L*D, B, H_out], [L*D, B, H]
  Slot hn, cn;
  Slot inner;    // workspace_layout(..., sizeof(float), ...).bytes
  std::size_t bytes = 0;
};
HalfStagingLayout half_staging_layout(const RNNDescriptor& desc, const SequenceShape& shape,
                                      ForwardMode mode, bool scratch_per_direction = false);

ReserveLayout reserve_layout(const RNNDescriptor& desc, std::int64_t seq_len, std::int64_t batch,
                             std::size_t elem_size);
// `scratch_per_direction`: an inference workspace of a bidirectional network gets a scratch per
// direction, for Ops that run both directions of a layer at once (run_time_loop_pair).
WorkspaceLayout workspace_layout(const RNNDescriptor& desc, const SequenceShape& shape,
                                 ForwardMode mode, std::size_t elem_size,
                                 bool scratch_per_direction = false);

}  // namespace gpurnn::engine
