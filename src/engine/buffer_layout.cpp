#include "engine/buffer_layout.h"

namespace gpurnn::engine {
namespace {

// Hands out consecutive 64-byte-aligned slots.
class Carver {
 public:
  explicit Carver(std::size_t elem_size) : elem_size_(elem_size) {}
  Slot take(std::int64_t elements) { return take_bytes(static_cast<std::size_t>(elements) * elem_size_); }
  Slot take_bytes(std::size_t bytes) {
    if (bytes == 0) return {};
    Slot s{end_, bytes};
    end_ += (bytes + 63) / 64 * 64;
    return s;
  }
  std::size_t bytes() const { return end_; }

 private:
  std::size_t elem_size_;
  std::size_t end_ = 0;
};

std::int64_t gate_storage(const RNNDescriptor& desc) {
  return detail::cell_traits(desc.cell).saved_per_unit * desc.hidden_size;
}

LayerDirSlots carve_layer_dir(Carver& carver, const RNNDescriptor& desc, std::int64_t seq_len,
                              std::int64_t batch, bool with_gradients) {
  const std::int64_t tb = seq_len * batch;
  const std::int64_t h = desc.hidden_size;
  const std::int64_t gh = desc.gates() * h;
  const bool lstm = desc.has_cell_state();
  const bool proj = desc.proj_size > 0;
  LayerDirSlots s;
  s.gates = carver.take(tb * gate_storage(desc));
  s.h_states = carver.take((seq_len + 1) * batch * desc.state_size());
  s.c_states = carver.take(lstm ? (seq_len + 1) * batch * h : 0);
  s.m = carver.take(proj ? tb * h : 0);
  if (with_gradients) {
    s.d_ih = carver.take(tb * gh);
    s.d_hh = carver.take(detail::cell_traits(desc.cell).separate_hh_gradient ? tb * gh : 0);
    s.d_h = carver.take(proj ? tb * desc.state_size() : 0);
  }
  return s;
}

}  // namespace

ReserveLayout reserve_layout(const RNNDescriptor& desc, std::int64_t seq_len, std::int64_t batch,
                             std::size_t elem_size) {
  Carver carver(elem_size);
  ReserveLayout r;
  r.header = carver.take_bytes(sizeof(ReserveHeader));
  for (int l = 0; l < desc.num_layers; ++l) {
    for (int d = 0; d < desc.num_directions(); ++d) {
      r.layers.push_back(carve_layer_dir(carver, desc, seq_len, batch, true));
    }
  }
  r.layer_input.resize(static_cast<std::size_t>(desc.num_layers));
  for (int l = 1; l < desc.num_layers; ++l) {
    r.layer_input[static_cast<std::size_t>(l)] = carver.take(seq_len * batch * desc.output_size());
  }
  r.bytes = carver.bytes();
  return r;
}

WorkspaceLayout workspace_layout(const RNNDescriptor& desc, const SequenceShape& shape,
                                 ForwardMode mode, std::size_t elem_size, bool scratch_per_direction) {
  const std::int64_t t = shape.seq_len;
  const std::int64_t b = shape.batch;
  const std::int64_t out = desc.output_size();
  const bool training = mode == ForwardMode::training;
  Carver carver(elem_size);
  WorkspaceLayout w;
  w.lengths = carver.take_bytes(static_cast<std::size_t>(b) * sizeof(std::int32_t));
  if (shape.batch_first) {
    w.x_time_major = carver.take(t * b * desc.input_size);
    w.y_time_major = carver.take(t * b * out);
  }
  w.hh = carver.take(b * desc.gates() * desc.hidden_size);
  if (!training) {
    const std::int64_t io = desc.num_layers > 1 ? t * b * out : 0;
    w.layer_io[0] = carver.take(io);
    w.layer_io[1] = carver.take(desc.num_layers > 2 ? io : 0);
    w.scratch = carve_layer_dir(carver, desc, t, b, false);
    if (scratch_per_direction && desc.bidirectional) {
      w.scratch_reverse = carve_layer_dir(carver, desc, t, b, false);
      w.scratch_per_direction = true;
    }
  } else {
    // Layer 0's input gradient goes to dx itself (or x_time_major), so only inner layers' here.
    const std::int64_t inner = desc.num_layers > 1 ? t * b * out : 0;
    w.d_layer[0] = carver.take(inner);
    w.d_layer[1] = carver.take(desc.num_layers > 2 ? inner : 0);
    w.dh = carver.take(b * desc.state_size());
    w.dh_carry = carver.take(b * desc.state_size());
    w.dc_carry = carver.take(desc.has_cell_state() ? b * desc.hidden_size : 0);
    w.dm = carver.take(desc.proj_size > 0 ? b * desc.hidden_size : 0);
  }
  w.bytes = carver.bytes();
  return w;
}

HalfStagingLayout half_staging_layout(const RNNDescriptor& desc, const SequenceShape& shape,
                                      ForwardMode mode, bool scratch_per_direction) {
  const std::int64_t t = shape.seq_len, b = shape.batch;
  const std::int64_t states = static_cast<std::int64_t>(desc.num_layers) * desc.num_directions() * b;
  const std::int64_t cells = desc.has_cell_state() ? states * desc.hidden_size : 0;
  const std::vector<ParameterInfo> params = parameter_layout(desc);
  Carver carver(sizeof(float));
  HalfStagingLayout h;
  h.weights = carver.take(params.back().offset + params.back().shape.numel());
  h.x = carver.take(t * b * desc.input_size);
  h.y = carver.take(t * b * desc.output_size());
  h.h0 = carver.take(states * desc.state_size());
  h.c0 = carver.take(cells);
  h.hn = carver.take(states * desc.state_size());
  h.cn = carver.take(cells);
  h.inner = carver.take_bytes(workspace_layout(desc, shape, mode, sizeof(float), scratch_per_direction).bytes);
  h.bytes = carver.bytes();
  return h;
}

std::uint64_t lengths_digest(const std::int32_t* lengths, std::int64_t seq_len, std::int64_t batch) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (std::int64_t b = 0; b < batch; ++b) {
    const std::uint32_t v = static_cast<std::uint32_t>(lengths != nullptr ? lengths[b] : seq_len);
    for (int byte = 0; byte < 4; ++byte) {
      h ^= (v >> (8 * byte)) & 0xffu;
      h *= 0x100000001b3ULL;
    }
  }
  return h;
}

std::uint64_t lengths_digest(ConstTensorView lengths, std::int64_t seq_len, std::int64_t batch) {
  return lengths_digest(lengths.empty() ? nullptr : lengths.data_as<std::int32_t>(), seq_len, batch);
}

}  // namespace gpurnn::engine
