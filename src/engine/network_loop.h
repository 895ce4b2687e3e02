#pragma once
// The standard algorithm across layers and directions, written once over a backend's Ops
// (step_ops.h): batch-first transposed once, dropout between layers, the reserve's header, and
// the order of the per-layer operations of layer_loop.h. Arguments are validated by the caller.

#include "engine/buffer_layout.h"
#include "engine/layer_loop.h"
#include "engine/ops_contract.h"
#include "gpurnn/backend.h"

namespace gpurnn::engine {
namespace network_detail {

template <class T>
LayerWeights<T> layer_weights(const RNNWeights& w, int layer, int dir) {
  auto ptr = [&](ParamKind k) -> const T* {
    const ConstTensorView v = w.get(k, layer, dir);
    return v.empty() ? nullptr : v.template data_as<T>();
  };
  return {ptr(ParamKind::weight_ih), ptr(ParamKind::weight_hh), ptr(ParamKind::bias_ih),
          ptr(ParamKind::bias_hh), ptr(ParamKind::weight_hr)};
}

template <class T>
LayerGrads<T> layer_grads(RNNWeights& g, int layer, int dir) {
  auto ptr = [&](ParamKind k) -> T* {
    const TensorView v = g.get(k, layer, dir);
    return v.empty() ? nullptr : v.template data_as<T>();
  };
  return {ptr(ParamKind::weight_ih), ptr(ParamKind::weight_hh), ptr(ParamKind::bias_ih),
          ptr(ParamKind::bias_hh), ptr(ParamKind::weight_hr)};
}

template <class T>
LayerBuffers<T> buffers_in(const LayerDirSlots& s, void* base) {
  return {s.gates.in<T>(base), s.h_states.in<T>(base), s.c_states.in<T>(base), s.m.in<T>(base),
          s.d_ih.in<T>(base),  s.d_hh.in<T>(base),     s.d_h.in<T>(base)};
}

// Slice k ([B, units]) of a state tensor [L*D, B, units], or null when the tensor is omitted.
template <class T>
T* state_slice(const void* data, int k, std::int64_t batch, std::int64_t units) {
  if (data == nullptr) return nullptr;
  return const_cast<T*>(static_cast<const T*>(data)) + k * batch * units;
}

// The lengths where the Ops read them (their workspace slot), or null when omitted.
template <class Ops>
const std::int32_t* staged_lengths(Ops& ops, ConstTensorView lengths, std::int64_t batch,
                                   const WorkspaceLayout& ws, void* workspace) {
  if (lengths.empty()) return nullptr;
  return ops.stage_lengths(lengths.data_as<std::int32_t>(), batch, ws.lengths.in<std::int32_t>(workspace));
}

// The D directions of one layer: both in one time loop where the Ops can
// (run_time_loop_pair), else one after the other.
template <class Ops>
void layer_directions_forward(Ops& ops, int D, const LayerProblem (&p)[2],
                              const LayerWeights<typename Ops::value_type> (&w)[2],
                              const LayerBuffers<typename Ops::value_type> (&buf)[2],
                              const LayerForwardIO<typename Ops::value_type> (&io)[2]) {
  if constexpr (has_time_loop_pair_hook<Ops>::value) {
    if (D == 2) {
      for (int dir = 0; dir < 2; ++dir) layer_forward_prologue(ops, p[dir], w[dir], buf[dir], io[dir]);
      const bool together = ops.run_time_loop_pair(p, w, buf, io);
      for (int dir = 0; dir < 2; ++dir) {
        if (together) {
          finish_layer_forward(ops, p[dir], buf[dir], io[dir]);
        } else {
          layer_time_loop(ops, p[dir], w[dir], buf[dir], io[dir]);
        }
      }
      return;
    }
  }
  for (int dir = 0; dir < D; ++dir) layer_forward(ops, p[dir], w[dir], buf[dir], io[dir]);
}

}  // namespace network_detail

template <class Ops>
void network_forward(Ops& ops, const RNNWeights& weights, const ForwardArgs& args,
                     const SequenceShape& shape) {
  static_assert(check_ops_contract<Ops>());
  using T = typename Ops::value_type;
  using namespace network_detail;
  const RNNDescriptor& d = weights.descriptor();
  const std::int64_t T_ = shape.seq_len, B = shape.batch, H = d.hidden_size, Ho = d.state_size();
  const int D = d.num_directions(), L = d.num_layers;
  const bool training = args.mode == ForwardMode::training;
  const WorkspaceLayout ws = workspace_layout(d, shape, args.mode, sizeof(T), has_time_loop_pair_hook<Ops>::value);
  const ReserveLayout rs = training ? reserve_layout(d, T_, B, sizeof(T)) : ReserveLayout{};
  void* wbase = args.workspace.data();
  void* rbase = args.reserve.data();
  const std::int32_t* lengths = staged_lengths(ops, args.lengths, B, ws, wbase);

  const T* x = args.x.data_as<T>();
  if (shape.batch_first) {
    ops.transpose_leading(x, ws.x_time_major.in<T>(wbase), B, T_, d.input_size);
    x = ws.x_time_major.in<T>(wbase);
  }
  T* y = shape.batch_first ? ws.y_time_major.in<T>(wbase) : args.y.data_as<T>();

  for (int l = 0; l < L; ++l) {
    // Inner layers' outputs: in the reserve (training, after dropout) or in the workspace.
    const T* in = l == 0 ? x
                  : training ? rs.layer_input[l].in<T>(rbase)
                             : ws.layer_io[(l - 1) % 2].in<T>(wbase);
    T* out = l == L - 1 ? y
             : training ? rs.layer_input[l + 1].in<T>(rbase)
                        : ws.layer_io[l % 2].in<T>(wbase);
    LayerProblem p[2] = {};
    LayerWeights<T> w[2] = {};
    LayerBuffers<T> buf[2] = {};
    LayerForwardIO<T> io[2] = {};
    for (int dir = 0; dir < D; ++dir) {
      const int k = l * D + dir;
      p[dir] = LayerProblem{&d, l, dir == 1, T_, B, lengths};
      w[dir] = layer_weights<T>(weights, l, dir);
      buf[dir] = training ? buffers_in<T>(rs.layers[k], rbase)
                          : buffers_in<T>(dir == 1 && ws.scratch_per_direction ? ws.scratch_reverse : ws.scratch,
                                          wbase);
      io[dir].x = in;
      io[dir].h0 = state_slice<T>(args.h0.data(), k, B, Ho);
      io[dir].c0 = state_slice<T>(args.c0.data(), k, B, H);
      io[dir].y = out + dir * Ho;
      io[dir].ldy = D * Ho;
      io[dir].hn = state_slice<T>(args.hn.data(), k, B, Ho);
      io[dir].cn = state_slice<T>(args.cn.data(), k, B, H);
      io[dir].hh = ws.hh.in<T>(wbase);
    }
    layer_directions_forward(ops, D, p, w, buf, io);
    if (training && l < L - 1 && d.dropout > 0) {
      ops.apply_dropout(out, T_ * B * D * Ho, args.dropout_seed, l, d.dropout);
    }
  }
  if (training) {
    ops.write_header(rs.header.in<ReserveHeader>(rbase),
                     {ReserveHeader::kMagic, ReserveHeader::forward_done, args.dropout_seed, T_, B,
                      lengths_digest(args.lengths, T_, B)});
  }
  if (shape.batch_first) ops.transpose_leading(y, args.y.data_as<T>(), T_, B, D * Ho);
}

template <class Ops>
void network_backward_data(Ops& ops, const RNNWeights& weights, const BackwardDataArgs& args,
                           const SequenceShape& shape) {
  static_assert(check_ops_contract<Ops>());
  using T = typename Ops::value_type;
  using namespace network_detail;
  const RNNDescriptor& d = weights.descriptor();
  const std::int64_t T_ = shape.seq_len, B = shape.batch, H = d.hidden_size, Ho = d.state_size();
  const int D = d.num_directions(), L = d.num_layers;
  const WorkspaceLayout ws = workspace_layout(d, shape, ForwardMode::training, sizeof(T));
  const ReserveLayout rs = reserve_layout(d, T_, B, sizeof(T));
  void* wbase = args.workspace.data();
  void* rbase = args.reserve.data();
  ReserveHeader header = ops.read_header(rs.header.in<ReserveHeader>(rbase));
  const std::int32_t* lengths = staged_lengths(ops, args.lengths, B, ws, wbase);

  const T* dy = args.dy.data_as<T>();
  if (shape.batch_first) {
    ops.transpose_leading(dy, ws.y_time_major.in<T>(wbase), B, T_, D * Ho);
    dy = ws.y_time_major.in<T>(wbase);
  }
  T* dx = shape.batch_first ? ws.x_time_major.in<T>(wbase) : args.dx.data_as<T>();

  for (int l = L - 1; l >= 0; --l) {
    // Layer l (>0) writes the gradient of its input to d_layer[(l-1) % 2]; layer l-1 reads it.
    const T* dy_l = l == L - 1 ? dy : ws.d_layer[l % 2].in<T>(wbase);
    T* dx_l = l == 0 ? dx : ws.d_layer[(l - 1) % 2].in<T>(wbase);
    for (int dir = 0; dir < D; ++dir) {
      const int k = l * D + dir;
      const LayerProblem p{&d, l, dir == 1, T_, B, lengths};
      const LayerWeights<T> w = layer_weights<T>(weights, l, dir);
      const LayerBuffers<T> buf = buffers_in<T>(rs.layers[k], rbase);
      LayerBackwardIO<T> io{};
      io.dy = dy_l + dir * Ho;
      io.ldy = D * Ho;
      io.dhn = state_slice<T>(args.dhn.data(), k, B, Ho);
      io.dcn = state_slice<T>(args.dcn.data(), k, B, H);
      io.dh0 = state_slice<T>(args.dh0.data(), k, B, Ho);
      io.dc0 = state_slice<T>(args.dc0.data(), k, B, H);
      io.dh = ws.dh.in<T>(wbase);
      io.dh_carry = ws.dh_carry.in<T>(wbase);
      io.dc_carry = ws.dc_carry.in<T>(wbase);
      io.dm = ws.dm.in<T>(wbase);
      layer_backward_data(ops, p, w, buf, io);
      layer_input_gradient(ops, p, w, buf, dx_l, dir > 0);
    }
    // The input of layer l was layer l-1's output times its dropout mask.
    if (l > 0 && d.dropout > 0) ops.apply_dropout(dx_l, T_ * B * D * Ho, header.dropout_seed, l - 1, d.dropout);
  }
  if (shape.batch_first) ops.transpose_leading(dx, args.dx.data_as<T>(), T_, B, d.input_size);
  header.stage = ReserveHeader::backward_data_done;
  ops.write_header(rs.header.in<ReserveHeader>(rbase), header);
}

template <class Ops>
void network_backward_weights(Ops& ops, const RNNWeights& weights, const BackwardWeightsArgs& args,
                              const SequenceShape& shape, RNNWeights& grads) {
  static_assert(check_ops_contract<Ops>());
  using T = typename Ops::value_type;
  using namespace network_detail;
  const RNNDescriptor& d = weights.descriptor();
  const std::int64_t T_ = shape.seq_len, B = shape.batch;
  const WorkspaceLayout ws = workspace_layout(d, shape, ForwardMode::training, sizeof(T));
  const ReserveLayout rs = reserve_layout(d, T_, B, sizeof(T));
  void* wbase = args.workspace.data();
  // Read only: backward_weights does not modify the reserve.
  void* rbase = const_cast<void*>(args.reserve.data());

  const T* x = args.x.data_as<T>();
  if (shape.batch_first) {
    ops.transpose_leading(x, ws.x_time_major.in<T>(wbase), B, T_, d.input_size);
    x = ws.x_time_major.in<T>(wbase);
  }
  for (int l = 0; l < d.num_layers; ++l) {
    const T* in = l == 0 ? x : rs.layer_input[l].in<T>(rbase);
    for (int dir = 0; dir < d.num_directions(); ++dir) {
      const LayerProblem p{&d, l, dir == 1, T_, B, nullptr};
      layer_backward_weights(ops, p, buffers_in<T>(rs.layers[l * d.num_directions() + dir], rbase), in,
                             layer_grads<T>(grads, l, dir), args.grad_mode == GradMode::accumulate);
    }
  }
}

}  // namespace gpurnn::engine
