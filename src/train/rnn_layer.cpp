#include "train/rnn_layer.h"

#include "core/device_allocator.h"
#include "core/half_arrays.h"

namespace gpurnn::train {
namespace {

ConstTensorView optional_view(const Tensor& t) { return t.defined() ? t.view() : ConstTensorView(); }

// `t` as `dtype`: `t` itself when it is already (or undefined), else Tensor::to's copy.
Tensor as_dtype(const Tensor& t, DType dtype) { return !t.defined() || t.dtype() == dtype ? t : t.to(dtype); }

}  // namespace

RnnLayer::RnnLayer(const RNNDescriptor& desc, DType dtype, const std::string& backend, std::uint64_t seed,
                   int threads, std::optional<DType> compute)
    : backend_(make_backend(backend, BackendOptions{threads, {}})), compute_(compute.value_or(dtype)) {
  check_argument(compute_ == dtype || (dtype == DType::f32 && is_half(compute_)), "RnnLayer", "compute", [&] {
    return std::string("is ") + to_string(compute_) + " with " + to_string(dtype) +
           " weights; expected the weights' dtype, or bf16 or f16 with f32 weights (mixed precision)";
  });
  if (const auto why = backend_->unsupported_reason(desc, compute_)) {
    throw Error(ErrorCode::unsupported, "RnnLayer: backend '" + backend + "' cannot train this RNN" +
                                            (compute_ != dtype ? std::string(" in ") + to_string(compute_) : "") +
                                            ": " + *why);
  }
  weights_ = RNNWeights(desc, dtype, backend_->device());
  weights_.init_uniform(seed);
  grads_ = RNNWeights(desc, dtype, backend_->device());
  grads_.zero();
}

// A buffer too small for `bytes` is replaced; the old one may still be in use by the last call's
// work on `stream` (this call's: a model keeps one stream), so its free waits for that work.
Tensor& RnnLayer::grown(Tensor& buffer, std::size_t bytes, void* stream) {
  if (!buffer.defined() || buffer.bytes() < bytes) {
    if (buffer.defined()) detail::order_frees_after(device(), stream);
    buffer = Tensor::empty({static_cast<std::int64_t>(std::max<std::size_t>(bytes, 1))}, DType::u8, device());
  }
  return buffer;
}

Tensor RnnLayer::in_compute(const Tensor& t) const { return mixed_precision() ? as_dtype(t, compute_) : t; }
Tensor RnnLayer::in_weights_dtype(const Tensor& t) const { return mixed_precision() ? as_dtype(t, dtype()) : t; }

const RNNWeights& RnnLayer::rounded_weights(RNNWeights& copy) const {
  if (!copy.flat().defined()) copy = RNNWeights(descriptor(), compute_, device());
  if (device().is_cpu()) {
    detail::narrow_to_half(compute_, weights_.flat().data_as<float>(), copy.flat().data(), weights_.numel());
  } else {
    copy_into(as_dtype(weights_.flat(), compute_).view(), copy.flat().view());
  }
  return copy;
}

RnnStepOutput RnnLayer::forward(const Tensor& x, const Tensor& lengths, const Tensor& h0, const Tensor& c0,
                                ForwardMode mode, std::uint64_t dropout_seed, void* stream) {
  prepared_.reset();
  return run_forward(x, lengths, h0, c0, mode, dropout_seed, stream, nullptr);
}

RnnStepOutput RnnLayer::run_forward(const Tensor& x, const Tensor& lengths, const Tensor& h0, const Tensor& c0,
                                    ForwardMode mode, std::uint64_t dropout_seed, void* stream,
                                    const PreparedWeights* prepared) {
  const RNNDescriptor& d = descriptor();
  const DType dt = compute_;
  const bool training = mode == ForwardMode::training;
  // Mixed precision: the weights rounded for this call (a prepared snapshot already is), and the
  // inputs rounded to the compute dtype.
  const RNNWeights* weights = &weights_;
  if (mixed_precision() && prepared == nullptr) {
    weights = &rounded_weights(training ? training_copy_ : inference_copy_);
  }
  const Tensor cx = in_compute(x);
  const Tensor ch0 = in_compute(h0);
  const Tensor cc0 = in_compute(c0);
  const SequenceShape s{x.dim(0), x.dim(1), false};
  RnnStepOutput out;
  out.y = Tensor::empty({s.seq_len, s.batch, d.output_size()}, dt, device());
  out.hn = Tensor::empty({d.num_layers * d.num_directions(), s.batch, d.state_size()}, dt, device());
  if (d.has_cell_state()) out.cn = Tensor::empty({d.num_layers * d.num_directions(), s.batch, d.hidden_size}, dt, device());

  ForwardArgs a;
  a.mode = mode;
  a.x = cx.view();
  a.lengths = optional_view(lengths);
  a.h0 = optional_view(ch0);
  a.c0 = optional_view(cc0);
  a.y = out.y.view();
  a.hn = out.hn.view();
  if (out.cn.defined()) a.cn = out.cn.view();
  a.workspace = grown(workspace_, backend_->workspace_size(d, s, dt, mode), stream).view();
  if (training) {
    a.reserve = grown(reserve_, backend_->reserve_size(d, s, dt), stream).view();
  }
  a.dropout_seed = dropout_seed;
  a.stream = stream;
  saved_ = false;
  if (prepared != nullptr) {
    backend_->forward(*prepared, a);
  } else {
    backend_->forward(*weights, a);
  }
  if (training) {
    x_ = cx;
    lengths_ = lengths;
    shape_ = s;
    saved_ = true;
  }
  // The rest of the model computes in the weights' dtype.
  out.y = in_weights_dtype(out.y);
  out.hn = in_weights_dtype(out.hn);
  out.cn = in_weights_dtype(out.cn);
  return out;
}

Tensor RnnLayer::backward(const Tensor& dy, const Tensor& dhn, bool want_dx, void* stream) {
  return backward(dy, dhn, Tensor(), want_dx, false, stream).dx;
}

RnnStepOutput RnnLayer::step(const Tensor& x, const Tensor& h, const Tensor& c, void* stream) {
  check_argument(x.rank() == 2, "RnnLayer::step", "x", [&] { return "must be [B, I], got " + to_string(x.shape()); });
  if (prepared_ == nullptr && backend_->prepare_packs(compute_)) {
    prepared_ = backend_->prepare(mixed_precision() ? rounded_weights(inference_copy_) : weights_);
  }
  RnnStepOutput out = run_forward(x.reshape({1, x.dim(0), x.dim(1)}), Tensor(), h, c, ForwardMode::inference, 0,
                                  stream, prepared_.get());
  out.y = out.y.reshape({x.dim(0), out.y.dim(2)});
  return out;
}

RnnInputGradients RnnLayer::backward(const Tensor& dy, const Tensor& dhn, const Tensor& dcn, bool want_dx,
                                bool want_initial, void* stream) {
  check_argument(saved_, "RnnLayer::backward", "this", "has no saved training forward");
  saved_ = false;
  prepared_.reset();  // the reserve is consumed by backward_data
  const RNNDescriptor& d = descriptor();
  const DType dt = compute_;
  // Mixed precision: the weights as the training forward rounded them, the output gradients
  // rounded to the compute dtype.
  const RNNWeights& weights = mixed_precision() ? training_copy_ : weights_;
  const Tensor cdy = in_compute(dy);
  const Tensor cdhn = in_compute(dhn);
  const Tensor cdcn = in_compute(dcn);
  RnnInputGradients g;
  if (want_initial) {
    g.dh0 = Tensor::empty({d.num_layers * d.num_directions(), shape_.batch, d.state_size()}, dt, device());
    if (d.has_cell_state()) {
      g.dc0 = Tensor::empty({d.num_layers * d.num_directions(), shape_.batch, d.hidden_size}, dt, device());
    }
  }
  Tensor dx = Tensor::empty(x_.shape(), dt, device());
  grown(workspace_, backend_->workspace_size(descriptor(), shape_, dt, ForwardMode::training), stream);
  BackwardDataArgs bd;
  bd.lengths = optional_view(lengths_);
  bd.dy = optional_view(cdy);
  bd.dhn = optional_view(cdhn);
  bd.dcn = optional_view(cdcn);
  bd.dx = dx.view();
  if (g.dh0.defined()) bd.dh0 = g.dh0.view();
  if (g.dc0.defined()) bd.dc0 = g.dc0.view();
  bd.workspace = workspace_.view();
  bd.reserve = reserve_.view();
  bd.stream = stream;
  backend_->backward_data(weights, bd);

  BackwardWeightsArgs bw;
  bw.x = x_.view();
  bw.workspace = workspace_.view();
  bw.reserve = reserve_.view();
  bw.grad_mode = GradMode::accumulate;
  bw.stream = stream;
  backend_->backward_weights(weights, bw, grads_);  // f32 gradients of half weights: the master's
  if (want_dx) g.dx = in_weights_dtype(dx);
  g.dh0 = in_weights_dtype(g.dh0);
  g.dc0 = in_weights_dtype(g.dc0);
  return g;
}

Parameter RnnLayer::parameter(const std::string& name) {
  prepared_.reset();
  return Parameter{name, weights_.flat(), grads_.flat()};
}

}  // namespace gpurnn::train
