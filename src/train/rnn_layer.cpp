#include "train/rnn_layer.h"

#include "core/device_allocator.h"

namespace gpurnn::train {
namespace {

ConstTensorView optional_view(const Tensor& t) { return t.defined() ? t.view() : ConstTensorView(); }

}  // namespace

RnnLayer::RnnLayer(const RNNDescriptor& desc, DType dtype, const std::string& backend, std::uint64_t seed,
                   int threads)
    : backend_(make_backend(backend, BackendOptions{threads, {}})) {
  if (const auto why = backend_->unsupported_reason(desc, dtype)) {
    throw Error(ErrorCode::unsupported, "RnnLayer: backend '" + backend + "' cannot train this RNN: " + *why);
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

RnnStepOutput RnnLayer::forward(const Tensor& x, const Tensor& lengths, const Tensor& h0, const Tensor& c0,
                                ForwardMode mode, std::uint64_t dropout_seed, void* stream) {
  prepared_.reset();
  return run_forward(x, lengths, h0, c0, mode, dropout_seed, stream, nullptr);
}

RnnStepOutput RnnLayer::run_forward(const Tensor& x, const Tensor& lengths, const Tensor& h0, const Tensor& c0,
                                    ForwardMode mode, std::uint64_t dropout_seed, void* stream,
                                    const PreparedWeights* prepared) {
  const RNNDescriptor& d = descriptor();
  const DType dt = weights_.dtype();
  const SequenceShape s{x.dim(0), x.dim(1), false};
  RnnStepOutput out;
  out.y = Tensor::empty({s.seq_len, s.batch, d.output_size()}, dt, device());
  out.hn = Tensor::empty({d.num_layers * d.num_directions(), s.batch, d.state_size()}, dt, device());
  if (d.has_cell_state()) out.cn = Tensor::empty({d.num_layers * d.num_directions(), s.batch, d.hidden_size}, dt, device());

  ForwardArgs a;
  a.mode = mode;
  a.x = x.view();
  a.lengths = optional_view(lengths);
  a.h0 = optional_view(h0);
  a.c0 = optional_view(c0);
  a.y = out.y.view();
  a.hn = out.hn.view();
  if (out.cn.defined()) a.cn = out.cn.view();
  a.workspace = grown(workspace_, backend_->workspace_size(d, s, dt, mode), stream).view();
  if (mode == ForwardMode::training) {
    a.reserve = grown(reserve_, backend_->reserve_size(d, s, dt), stream).view();
  }
  a.dropout_seed = dropout_seed;
  a.stream = stream;
  saved_ = false;
  if (prepared != nullptr) {
    backend_->forward(*prepared, a);
  } else {
    backend_->forward(weights_, a);
  }
  if (mode == ForwardMode::training) {
    x_ = x;
    lengths_ = lengths;
    shape_ = s;
    saved_ = true;
  }
  return out;
}

Tensor RnnLayer::backward(const Tensor& dy, const Tensor& dhn, bool want_dx, void* stream) {
  return backward(dy, dhn, Tensor(), want_dx, false, stream).dx;
}

RnnStepOutput RnnLayer::step(const Tensor& x, const Tensor& h, const Tensor& c, void* stream) {
  check_argument(x.rank() == 2, "RnnLayer::step", "x", "must be [B, I], got " + to_string(x.shape()));
  if (prepared_ == nullptr && backend_->prepare_packs(weights_.dtype())) prepared_ = backend_->prepare(weights_);
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
  RnnInputGradients g;
  if (want_initial) {
    g.dh0 = Tensor::empty({d.num_layers * d.num_directions(), shape_.batch, d.state_size()}, weights_.dtype(), device());
    if (d.has_cell_state()) {
      g.dc0 = Tensor::empty({d.num_layers * d.num_directions(), shape_.batch, d.hidden_size}, weights_.dtype(), device());
    }
  }
  Tensor dx = Tensor::empty(x_.shape(), weights_.dtype(), device());
  grown(workspace_, backend_->workspace_size(descriptor(), shape_, weights_.dtype(), ForwardMode::training), stream);
  BackwardDataArgs bd;
  bd.lengths = optional_view(lengths_);
  bd.dy = optional_view(dy);
  bd.dhn = optional_view(dhn);
  bd.dcn = optional_view(dcn);
  bd.dx = dx.view();
  if (g.dh0.defined()) bd.dh0 = g.dh0.view();
  if (g.dc0.defined()) bd.dc0 = g.dc0.view();
  bd.workspace = workspace_.view();
  bd.reserve = reserve_.view();
  bd.stream = stream;
  backend_->backward_data(weights_, bd);

  BackwardWeightsArgs bw;
  bw.x = x_.view();
  bw.workspace = workspace_.view();
  bw.reserve = reserve_.view();
  bw.grad_mode = GradMode::accumulate;
  bw.stream = stream;
  backend_->backward_weights(weights_, bw, grads_);
  if (want_dx) g.dx = dx;
  return g;
}

Parameter RnnLayer::parameter(const std::string& name) {
  prepared_.reset();
  return Parameter{name, weights_.flat(), grads_.flat()};
}

}  // namespace gpurnn::train
