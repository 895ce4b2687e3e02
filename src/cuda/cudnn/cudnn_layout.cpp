#include "cuda/cudnn/cudnn_layout.h"

namespace gpurnn::cuda {
namespace {

constexpr std::size_t kAlign = 256;

// Appends a slot of `bytes` (none when 0) at the next aligned offset.
engine::Slot take(std::size_t& cursor, std::size_t bytes) {
  if (bytes == 0) return {};
  cursor = (cursor + kAlign - 1) / kAlign * kAlign;
  const engine::Slot s{cursor, bytes};
  cursor += bytes;
  return s;
}

std::size_t elements(std::int64_t a, std::int64_t b, std::int64_t c) {
  return static_cast<std::size_t>(a) * static_cast<std::size_t>(b) * static_cast<std::size_t>(c);
}

}  // namespace

CudnnWorkspaceLayout cudnn_workspace_layout(const CudnnSizes& sizes, const SequenceShape& shape,
                                            ForwardMode mode) {
  CudnnWorkspaceLayout l;
  std::size_t cursor = 0;
  l.lengths = take(cursor, static_cast<std::size_t>(shape.batch) * sizeof(std::int32_t));
  l.weights = take(cursor, sizes.weight_space);
  if (mode == ForwardMode::training) l.dweights = take(cursor, sizes.weight_space);
  l.work = take(cursor, sizes.work);
  l.bytes = cursor;
  return l;
}

CudnnReserveLayout cudnn_reserve_layout(const CudnnSizes& sizes, const RNNDescriptor& desc,
                                        const SequenceShape& shape, std::size_t elem_size) {
  CudnnReserveLayout l;
  std::size_t cursor = 0;
  const std::int64_t states = static_cast<std::int64_t>(desc.num_layers) * desc.num_directions();
  l.header = take(cursor, sizeof(CudnnReserveHeader));
  l.lengths = take(cursor, static_cast<std::size_t>(shape.batch) * sizeof(std::int32_t));
  l.cudnn = take(cursor, sizes.reserve);
  l.y = take(cursor, elements(shape.seq_len, shape.batch, desc.output_size()) * elem_size);
  l.h0 = take(cursor, elements(states, shape.batch, desc.state_size()) * elem_size);
  if (desc.has_cell_state()) l.c0 = take(cursor, elements(states, shape.batch, desc.hidden_size) * elem_size);
  l.bytes = cursor;
  return l;
}

}  // namespace gpurnn::cuda
