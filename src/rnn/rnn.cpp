#include "gpurnn/rnn.h"

#include <utility>

#include "engine/validate_args.h"

namespace gpurnn {
namespace {

ConstTensorView optional_view(const Tensor& t) { return t.defined() ? t.view() : ConstTensorView(); }
TensorView optional_view(Tensor& t) { return t.defined() ? t.view() : TensorView(); }

Tensor byte_buffer(std::size_t bytes, Device device) {
  return Tensor::empty({static_cast<std::int64_t>(bytes)}, DType::u8, device);
}

// The training lock of an RNN, or Error(invalid_argument) at once when another thread holds it.
std::unique_lock<std::mutex> lock_training(std::mutex* training, const char* call) {
  check_argument(training != nullptr, call, "this", "is a moved-from RNN");
  std::unique_lock<std::mutex> lock(*training, std::try_to_lock);
  if (!lock.owns_lock()) {
    throw Error(ErrorCode::invalid_argument,
                std::string(call) + ": argument 'this': another thread is inside forward_train() or backward() of "
                "this RNN; an RNN is trained by one thread at a time (give each thread its own RNN)");
  }
  return lock;
}

}  // namespace

RNN::RNN(const RNNDescriptor& desc, DType dtype, const std::string& backend, std::uint64_t seed)
    : backend_(make_backend(backend)) {
  if (is_half(dtype)) {
    if (const auto why = backend_->unsupported_reason(desc, dtype)) throw Error(ErrorCode::unsupported, "RNN: argument 'dtype': " + *why);
  }
  weights_ = RNNWeights(desc, dtype, backend_->device());
  weights_.init_uniform(seed);
}

RNN::RNN(RNNWeights weights, const std::string& backend, const BackendOptions& options)
    : weights_(std::move(weights)), backend_(make_backend(backend, options)) {
  check_argument(weights_.flat().defined(), "RNN", "weights", "is empty (default-constructed)");
  check_argument(weights_.device() == backend_->device(), "RNN", "weights", [&] {
    return "are on " + to_string(weights_.device()) + ", but backend '" + backend + "' runs on " +
           to_string(backend_->device());
  });
}

RNNWeights& RNN::weights() {
  weights_changed();
  return weights_;
}

void RNN::weights_changed() {
  if (prepared_mutex_ == nullptr) return;  // a moved-from RNN
  const std::lock_guard<std::mutex> lock(*prepared_mutex_);
  prepared_.reset();
}

std::shared_ptr<const PreparedWeights> RNN::prepared_weights() const {
  if (prepared_mutex_ == nullptr) return nullptr;
  const std::lock_guard<std::mutex> lock(*prepared_mutex_);
  return prepared_;
}

std::shared_ptr<const PreparedWeights> RNN::prepared_for_inference() {
  if (!backend_->prepare_packs(weights_.dtype())) return nullptr;
  check_argument(prepared_mutex_ != nullptr, "RNN::forward", "this", "is a moved-from RNN");
  const std::lock_guard<std::mutex> lock(*prepared_mutex_);
  if (prepared_ == nullptr) prepared_ = backend_->prepare(weights_);
  return prepared_;
}

RNNOutput RNN::run_forward(const Tensor& x, const SequenceInputs& inputs, ForwardMode mode,
                           std::uint64_t dropout_seed) {
  const RNNDescriptor& d = descriptor();
  const SequenceShape s = sequence_shape_of("RNN::forward", "x", x.view(), descriptor().input_size, inputs.batch_first);
  const Device dev = backend_->device();
  const std::int64_t states = static_cast<std::int64_t>(d.num_layers) * d.num_directions();
  RNNOutput out;
  out.y = Tensor::empty(sequence_tensor_shape(s, d.output_size()), weights_.dtype(), dev);
  out.hn = Tensor::empty({states, s.batch, d.state_size()}, weights_.dtype(), dev);
  if (d.has_cell_state()) out.cn = Tensor::empty({states, s.batch, d.hidden_size}, weights_.dtype(), dev);
  // An RNN's calls run on the default (legacy) stream, the one whose order CUDA storage is
  // allocated and freed in (core/device_allocator.h): this workspace, freed at return, and the
  // reserve this replaces are freed only after the calls that used them, with nothing to order.
  Tensor workspace = byte_buffer(backend_->workspace_size(d, s, weights_.dtype(), mode), dev);
  if (mode == ForwardMode::training) {
    reserve_ = byte_buffer(backend_->reserve_size(d, s, weights_.dtype()), dev);
  }
  ForwardArgs a;
  a.mode = mode;
  a.batch_first = inputs.batch_first;
  a.x = x.view();
  a.lengths = optional_view(inputs.lengths);
  a.h0 = optional_view(inputs.h0);
  a.c0 = optional_view(inputs.c0);
  a.y = out.y.view();
  a.hn = out.hn.view();
  a.cn = optional_view(out.cn);
  a.workspace = workspace.view();
  a.reserve = mode == ForwardMode::training ? reserve_.view() : TensorView();
  a.dropout_seed = dropout_seed;
  if (mode == ForwardMode::inference) {
    if (const std::shared_ptr<const PreparedWeights> prepared = prepared_for_inference()) {
      backend_->forward(*prepared, a);
      return out;
    }
  }
  backend_->forward(weights_, a);
  return out;
}

RNNOutput RNN::forward(const Tensor& x, const SequenceInputs& inputs) {
  return run_forward(x, inputs, ForwardMode::inference, 0);
}

RNNOutput RNN::forward_train(const Tensor& x, const SequenceInputs& inputs,
                             std::uint64_t dropout_seed) {
  const std::unique_lock<std::mutex> lock = lock_training(training_.get(), "RNN::forward_train");
  weights_changed();  // an optimizer step follows training
  has_saved_ = false;
  RNNOutput out = run_forward(x, inputs, ForwardMode::training, dropout_seed);
  saved_x_ = x;
  saved_inputs_ = inputs;
  saved_by_ = std::this_thread::get_id();
  has_saved_ = true;
  return out;
}

RNNGradients RNN::backward(const Tensor& dy, const Tensor& dhn, const Tensor& dcn) {
  const std::unique_lock<std::mutex> lock = lock_training(training_.get(), "RNN::backward");
  weights_changed();
  if (!has_saved_) {
    throw Error(ErrorCode::invalid_argument,
                "RNN::backward: no saved forward pass; call forward_train() first");
  }
  if (saved_by_ != std::this_thread::get_id()) {
    throw Error(ErrorCode::invalid_argument,
                "RNN::backward: argument 'this': the saved forward pass was made by another thread's "
                "forward_train(); an RNN is trained by one thread at a time (give each thread its own RNN)");
  }
  const RNNDescriptor& d = descriptor();
  const SequenceShape s = sequence_shape_of("RNN::backward", "x", saved_x_.view(), descriptor().input_size, saved_inputs_.batch_first);
  const Device dev = backend_->device();
  const DType dt = weights_.dtype();
  const std::int64_t states = static_cast<std::int64_t>(d.num_layers) * d.num_directions();
  RNNGradients g;
  g.dx = Tensor::empty(saved_x_.shape(), dt, dev);
  g.dh0 = Tensor::empty({states, s.batch, d.state_size()}, dt, dev);
  if (d.has_cell_state()) g.dc0 = Tensor::empty({states, s.batch, d.hidden_size}, dt, dev);
  g.dweights = RNNWeights(d, is_half(dt) ? DType::f32 : dt, dev);  // half weights: f32 gradients
  Tensor workspace = byte_buffer(backend_->workspace_size(d, s, dt, ForwardMode::training), dev);

  BackwardDataArgs bd;
  bd.batch_first = s.batch_first;
  bd.lengths = optional_view(saved_inputs_.lengths);
  bd.dy = dy.defined() ? dy.view() : ConstTensorView();
  bd.dhn = optional_view(dhn);
  bd.dcn = optional_view(dcn);
  bd.dx = g.dx.view();
  bd.dh0 = g.dh0.view();
  bd.dc0 = optional_view(g.dc0);
  bd.workspace = workspace.view();
  bd.reserve = reserve_.view();
  backend_->backward_data(weights_, bd);

  BackwardWeightsArgs bw;
  bw.batch_first = s.batch_first;
  bw.x = saved_x_.view();
  bw.workspace = workspace.view();
  bw.reserve = reserve_.view();
  bw.grad_mode = GradMode::overwrite;
  backend_->backward_weights(weights_, bw, g.dweights);
  return g;
}

}  // namespace gpurnn
