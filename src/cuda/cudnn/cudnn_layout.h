#pragma once
// Where the cudnn backend keeps things inside the caller's workspace and reserve: a pure
// function of the sizes cuDNN asks for and the problem, so the size queries and the calls carve
// memory the same way (pure host code; CPU tests check it). Offsets in bytes, each slot aligned
// to 256 bytes (cuDNN's buffers want at least 128).
//
// Workspace: the batch's lengths on the device (cuDNN's devSeqLengths), the weights in cuDNN's
// weight space (when gpurnn's flat buffer cannot serve as one as it is), in training the weight
// gradients in that space, and cuDNN's own workspace.
// Reserve: a header (what filled it), cuDNN's reserve, and what cuDNN's backward calls take
// that gpurnn's backward arguments do not carry: the forward's lengths, y, h0 and c0.

#include <cstddef>
#include <cstdint>

#include "engine/buffer_layout.h"
#include "gpurnn/backend.h"

namespace gpurnn::cuda {

// What cuDNN asks for one problem (cudnnGetRNNWeightSpaceSize, cudnnGetRNNTempSpaceSizes).
struct CudnnSizes {
  std::size_t weight_space = 0;
  std::size_t work = 0;     // in the mode asked about (training: enough for every call)
  std::size_t reserve = 0;  // training only
};

struct CudnnWorkspaceLayout {
  engine::Slot lengths;   // [B] int32
  engine::Slot weights;   // weight space
  engine::Slot dweights;  // weight-gradient space (training)
  engine::Slot work;      // cuDNN's workspace
  std::size_t bytes = 0;
};

// The first bytes of a reserve.
struct CudnnReserveHeader {
  static constexpr std::uint64_t kMagic = 0x67707572'6e6e4344ULL;  // "gpurnnCD"
  enum Stage : std::uint64_t { forward_done = 1, backward_data_done = 2 };
  std::uint64_t magic;
  std::uint64_t stage;
  std::int64_t seq_len;
  std::int64_t batch;
  std::uint32_t batch_first;
  std::uint32_t has_h0;  // the forward had h0 (saved in the reserve); else zeros
  std::uint32_t has_c0;
  std::uint32_t unused;
  std::uint64_t lengths_digest;  // engine::lengths_digest() of the forward's lengths
};

struct CudnnReserveLayout {
  engine::Slot header;   // CudnnReserveHeader
  engine::Slot lengths;  // [B] int32: backward_weights has no lengths argument
  engine::Slot cudnn;   // cuDNN's reserve
  engine::Slot y;       // the forward's y, in its layout
  engine::Slot h0;      // [L*D, B, H_out]
  engine::Slot c0;      // [L*D, B, H] (LSTM)
  std::size_t bytes = 0;
};

CudnnWorkspaceLayout cudnn_workspace_layout(const CudnnSizes& sizes, const SequenceShape& shape,
                                            ForwardMode mode);
CudnnReserveLayout cudnn_reserve_layout(const CudnnSizes& sizes, const RNNDescriptor& desc,
                                        const SequenceShape& shape, std::size_t elem_size);

}  // namespace gpurnn::cuda
