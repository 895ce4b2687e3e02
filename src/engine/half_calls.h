#pragma once
// Calls in a half dtype (bf16, f16) for a platform that computes them, by the precision rule of
// the README ("Half precision"):
//   - the caller's tensors (x, h0, c0, y, hn, cn, the weights; dy, dhn, dcn, dx, dh0, dc0) are
//     half; they are widened to f32 (exact) into the call's workspace (HalfStagingLayout), and
//     the f32 network (network_loop.h) computes on the copies: GEMM products accumulate in f32,
//     the cell math runs in f32;
//   - every GEMM operand is a half value: x and the weights are; h_t (y_t, the next step's
//     operand, hn) is rounded to half once per step, m_t = o ⊙ tanh(c_t) too before the W_hr
//     product, and a dropped-out inner layer's output after its scaling (HalfForwardOps);
//   - the LSTM cell state stays f32 in the workspace or reserve between steps; cn is c_T
//     rounded once;
//   - backward: from the forward's saved values, in f32, except that each step's gate
//     gradients (d_ih, and a GRU's d_hh) are rounded to half as they are made
//     (HalfBackwardOps): they are the operands of the products by W_ih and W_hh and of those
//     weights' gradients, each then a product of half values summed in f32. The state
//     gradients carried between steps (dh, dc), the bias gradients and the projection's
//     products stay f32. dx, dh0 and dc0 are rounded once at the end, and the weight gradients
//     are f32 (an f32 RNNWeights: a bf16 sum over T·B rows would lose most of its bits).
// The reserve of a half training forward is the f32 one. Prepared half weights hold their
// widened f32 copy, so a call given them widens nothing but its activations.
//
// A platform computes half when it offers, on its own memory, queued on the call's stream,
//   void widen_half(DType half, const void* src, float* dst, std::int64_t n, void* stream) const;
//   void narrow_to_half(DType half, const float* src, void* dst, std::int64_t n, void* stream) const;
//   void synchronize(void* stream) const;  // waits for what is queued (prepare's widening)
// and its f32 Ops offer `void round_to_half(DType half, float* values, std::int64_t n)`.

#include <type_traits>

#include "engine/buffer_layout.h"
#include "engine/network_loop.h"
#include "gpurnn/backend.h"

namespace gpurnn::engine {

template <class Platform, class = void>
struct computes_half : std::false_type {};
template <class Platform>
struct computes_half<Platform, std::void_t<decltype(&Platform::widen_half), decltype(&Platform::narrow_to_half)>>
    : std::true_type {};

// An f32 Ops may multiply by the caller's half weights themselves in the forward, told where they
// and their widened copy are: `void use_half_weights(DType half, const float* widened,
// const void* half_data, std::int64_t count)` (the cpu Ops: bf16 GEMV and oneDNN bf16 matmul).
template <class Ops, class = void>
struct has_half_weights_hook : std::false_type {};
template <class Ops>
struct has_half_weights_hook<Ops, std::void_t<decltype(&Ops::use_half_weights)>> : std::true_type {};

// An f32 Ops may also multiply two half-valued operands in half itself (the cpu Ops: oneDNN's
// bf16 matmul for the weight gradients) when told `void use_half_operands(DType half)`: every
// ops.gemm of that call then has half values in both operands.
template <class Ops, class = void>
struct has_half_operands_hook : std::false_type {};
template <class Ops>
struct has_half_operands_hook<Ops, std::void_t<decltype(&Ops::use_half_operands)>> : std::true_type {};

// The element size the network computes in for a call of `dtype` (half: f32).
inline std::size_t compute_size(DType dtype) { return is_half(dtype) ? sizeof(float) : dtype_size(dtype); }

// An f32 Ops that rounds the forward's GEMM operands to `half` as it makes them (the rule above).
template <class Base>
struct HalfForwardOps : Base {
  HalfForwardOps(Base base, DType half_dtype) : Base(std::move(base)), half(half_dtype) {}
  DType half;

  void forward_step(const ForwardStep<float>& s) {
    Base::forward_step(s);
    if (s.m != nullptr) this->round_to_half(half, s.m, s.batch * s.hidden);
  }
  // After the projection (if any): h_t is final here, before it is copied to y_t.
  void finish_forward_step(const StepOutput<float>& s) {
    this->round_to_half(half, s.h_next, s.batch * s.state);
    Base::finish_forward_step(s);
  }
  void apply_dropout(float* values, std::int64_t count, std::uint64_t seed, int layer, double p) {
    Base::apply_dropout(values, count, seed, layer, p);
    this->round_to_half(half, values, count);
  }
};

// An f32 Ops that rounds each step's gate gradients to `half` as they are made (the rule above).
template <class Base>
struct HalfBackwardOps : Base {
  HalfBackwardOps(Base base, DType half_dtype) : Base(std::move(base)), half(half_dtype) {}
  DType half;

  void backward_step(const BackwardStep<float>& s) {
    Base::backward_step(s);
    const std::int64_t gh = s.batch * detail::cell_traits(s.cell).gates * s.hidden;
    this->round_to_half(half, s.d_ih, gh);
    if (s.d_hh != nullptr) this->round_to_half(half, s.d_hh, gh);
  }
};

template <class Platform>
class HalfCalls {
 public:
  HalfCalls(const Platform& platform, Device device) : platform_(platform), device_(device) {}

  // The f32 copy prepared half weights keep.
  RNNWeights widened_copy(const RNNWeights& w) const {
    RNNWeights w32(w.descriptor(), DType::f32, w.device());
    platform_.widen_half(w.dtype(), w.flat().data(), w32.flat().template data_as<float>(), w.numel(), nullptr);
    platform_.synchronize(nullptr);  // the copy is used by calls on any stream
    return w32;
  }

  // `prepared32`: the widened prepared weights, or null to widen `weights` into the workspace.
  template <class Ops>
  void forward(Ops ops, const RNNWeights& weights, const RNNWeights* prepared32, const ForwardArgs& args,
               const SequenceShape& shape, bool pair) const {
    const HalfStagingLayout hs = half_staging_layout(weights.descriptor(), shape, args.mode, pair);
    void* base = args.workspace.data();
    void* stream = args.stream;
    const RNNWeights w32 = prepared32 != nullptr ? *prepared32 : widened_weights(weights, hs, base, stream);
    ForwardArgs a = args;
    a.x = widened(args.x, hs.x, base, stream);
    a.h0 = widened(args.h0, hs.h0, base, stream);
    a.c0 = widened(args.c0, hs.c0, base, stream);
    a.y = staged(args.y, hs.y, base);
    a.hn = staged(args.hn, hs.hn, base);
    a.cn = staged(args.cn, hs.cn, base);
    a.workspace = inner(hs, base);
    HalfForwardOps<Ops> half_ops(std::move(ops), weights.dtype());
    tell_half_weights(half_ops, w32, weights);
    network_forward(half_ops, w32, a, shape);
    narrowed(a.y, args.y, stream);
    narrowed(a.hn, args.hn, stream);
    narrowed(a.cn, args.cn, stream);
  }

  template <class Ops>
  void backward_data(Ops ops, const RNNWeights& weights, const RNNWeights* prepared32,
                     const BackwardDataArgs& args, const SequenceShape& shape) const {
    const HalfStagingLayout hs = half_staging_layout(weights.descriptor(), shape, ForwardMode::training);
    void* base = args.workspace.data();
    void* stream = args.stream;
    const RNNWeights w32 = prepared32 != nullptr ? *prepared32 : widened_weights(weights, hs, base, stream);
    BackwardDataArgs a = args;
    a.dy = widened(args.dy, hs.y, base, stream);
    a.dhn = widened(args.dhn, hs.h0, base, stream);
    a.dcn = widened(args.dcn, hs.c0, base, stream);
    a.dx = staged(args.dx, hs.x, base);
    a.dh0 = staged(args.dh0, hs.hn, base);
    a.dc0 = staged(args.dc0, hs.cn, base);
    a.workspace = inner(hs, base);
    HalfBackwardOps<Ops> half_ops(std::move(ops), weights.dtype());
    // The products by W_hh and W_ih then have half values on both sides. Not with a projection,
    // whose backward products multiply the f32 state gradient.
    if (weights.descriptor().proj_size == 0) tell_half_weights(half_ops, w32, weights);
    network_backward_data(half_ops, w32, a, shape);
    narrowed(a.dx, args.dx, stream);
    narrowed(a.dh0, args.dh0, stream);
    narrowed(a.dc0, args.dc0, stream);
  }

  // `grads` is f32 (the rule); only the weights' descriptor is read.
  template <class Ops>
  void backward_weights(Ops ops, const RNNWeights& weights, const BackwardWeightsArgs& args,
                        const SequenceShape& shape, RNNWeights& grads) const {
    const HalfStagingLayout hs = half_staging_layout(weights.descriptor(), shape, ForwardMode::training);
    void* base = args.workspace.data();
    BackwardWeightsArgs a = args;
    a.x = widened(args.x, hs.x, base, args.stream);
    a.workspace = inner(hs, base);
    // The saved gate gradients, inputs and states are half values; a projection's saved h
    // gradient is not.
    if constexpr (has_half_operands_hook<Ops>::value) {
      if (weights.descriptor().proj_size == 0) ops.use_half_operands(weights.dtype());
    }
    network_backward_weights(ops, weights, a, shape, grads);
  }

 private:
  // The Ops' use_half_weights hook, where they have one: the caller's half weights and w32, their
  // widened copy.
  template <class HalfOps>
  static void tell_half_weights(HalfOps& ops, const RNNWeights& w32, const RNNWeights& weights) {
    if constexpr (has_half_weights_hook<HalfOps>::value) {
      ops.use_half_weights(weights.dtype(), w32.flat().template data_as<float>(), weights.flat().data(), weights.numel());
    } else {
      (void)ops, (void)w32, (void)weights;
    }
  }

  RNNWeights widened_weights(const RNNWeights& w, const HalfStagingLayout& hs, void* base, void* stream) const {
    float* dst = hs.weights.in<float>(base);
    platform_.widen_half(w.dtype(), w.flat().data(), dst, w.numel(), stream);
    return RNNWeights::borrow(w.descriptor(), TensorView(dst, Shape{w.numel()}, DType::f32, device_));
  }
  ConstTensorView widened(ConstTensorView v, const Slot& slot, void* base, void* stream) const {
    if (v.empty()) return {};
    float* dst = slot.in<float>(base);
    platform_.widen_half(v.dtype(), v.data(), dst, v.numel(), stream);
    return TensorView(dst, v.shape(), DType::f32, device_);
  }
  TensorView staged(TensorView v, const Slot& slot, void* base) const {
    if (v.empty()) return {};
    return TensorView(slot.in<float>(base), v.shape(), DType::f32, device_);
  }
  void narrowed(ConstTensorView from, TensorView to, void* stream) const {
    if (!to.empty()) {
      platform_.narrow_to_half(to.dtype(), static_cast<const float*>(from.data()), to.data(), to.numel(), stream);
    }
  }
  TensorView inner(const HalfStagingLayout& hs, void* base) const {
    return TensorView(hs.inner.in<unsigned char>(base), Shape{static_cast<std::int64_t>(hs.inner.bytes)}, DType::u8,
                      device_);
  }

  const Platform& platform_;
  Device device_;
};

}  // namespace gpurnn::engine
