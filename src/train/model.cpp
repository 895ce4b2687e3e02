#include "gpurnn/train/model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "gpurnn/detail/dtype_dispatch.h"
#include "core/thread_count.h"
#include "train/placement.h"
#include "train/rnn_layer.h"

namespace gpurnn::train {
namespace {

// Dropout stream of the head (the RNN's own inter-layer dropout draws from its seed separately).
constexpr std::uint64_t kHeadDropoutStream = 0x68656164;  // "head"

bool is_step_target(TargetKind kind) {
  return kind == TargetKind::step_classes || kind == TargetKind::step_values;
}
bool is_class_target(TargetKind kind) {
  return kind == TargetKind::step_classes || kind == TargetKind::final_classes;
}

// Slice `index` of the first dimension of `t`, as a view.
template <class View, class T>
View first_dim_slice(T& t, std::int64_t index) {
  Shape rest;
  for (int i = 1; i < t.rank(); ++i) rest.push_back(t.dim(i));
  const std::size_t bytes = static_cast<std::size_t>(rest.numel()) * dtype_size(t.dtype());
  auto* base = static_cast<std::conditional_t<std::is_const_v<T>, const char, char>*>(t.data());
  return View(base + index * bytes, rest, t.dtype(), t.device());
}

// Row mask [T*B] (1 for steps before the row's length) in `dtype` on `device`.
Tensor step_mask(const Tensor& lengths, std::int64_t steps, std::int64_t rows, DType dtype, Device device) {
  const Tensor host_lengths = on_host(lengths);
  const std::int32_t* len = host_lengths.data_as<std::int32_t>();
  Tensor mask = Tensor::empty({steps * rows}, dtype);
  detail::visit_floating(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* m = mask.data_as<T>();
    for (std::int64_t t = 0; t < steps; ++t) {
      for (std::int64_t b = 0; b < rows; ++b) m[t * rows + b] = t < len[b] ? T(1) : T(0);
    }
  });
  return on_device(mask, device);
}

// Argmax of each counted row of logits [N, V] against targets [N] (kIgnoreTarget skipped).
std::int64_t correct_predictions(const Tensor& logits, const Tensor& targets) {
  const Tensor l = on_host(logits);
  const Tensor t = on_host(targets);
  const std::int64_t rows = l.dim(0);
  const std::int64_t classes = l.dim(1);
  const std::int32_t* target = t.data_as<std::int32_t>();
  std::int64_t correct = 0;
  detail::visit_floating(l.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* v = l.data_as<T>();
    for (std::int64_t n = 0; n < rows; ++n) {
      if (target[n] == kIgnoreTarget) continue;
      const T* row = v + n * classes;
      correct += (std::max_element(row, row + classes) - row) == target[n];
    }
  });
  return correct;
}

}  // namespace

// What a forward pass keeps for its backward.
struct SequenceModel::Forward {
  Tensor ids;       // tokens: [T*B]
  Tensor frames;    // features with a projection: its input [T*B, I]
  Tensor features;  // head input after dropout: [T*B, H_out] or [B, H_out]
  Tensor logits;    // [T*B, O] or [B, O]
  std::int64_t steps = 0, rows = 0;
};

SequenceModel::SequenceModel(const ModelConfig& config) : config_(config) {
  const char* where = "SequenceModel";
  check_argument(config.io.input_size > 0, where, "io.input_size",
                 "must be positive, got " + std::to_string(config.io.input_size));
  check_argument(config.io.output_size > 0, where, "io.output_size",
                 "must be positive, got " + std::to_string(config.io.output_size));
  check_argument(!is_sequence_target(config.io.target), where, "io.target",
                 std::string(to_string(config.io.target)) + " targets are output sequences: train them with a Seq2SeqModel");
  check_argument(config.hidden > 0, where, "hidden", "must be positive, got " + std::to_string(config.hidden));
  check_argument(config.layers > 0 && config.layers <= 64, where, "layers",
                 "must be in [1, 64], got " + std::to_string(config.layers));
  check_argument(config.embedding >= 0, where, "embedding",
                 "must be 0 (default) or positive, got " + std::to_string(config.embedding));
  check_argument(config.dropout >= 0 && config.dropout < 1, where, "dropout",
                 "must be in [0, 1), got " + std::to_string(config.dropout));
  head_dropout_ = Dropout(config.dropout);
  check_argument(config.dtype == DType::f32 || config.dtype == DType::f64, where, "dtype",
                 std::string("must be f32 or f64, got ") + to_string(config.dtype));
  if (config.rnn_dtype && *config.rnn_dtype != config.dtype) {
    const DType r = *config.rnn_dtype;
    check_argument(r != DType::f16, where, "rnn_dtype",
                   "is f16: training in f16 needs loss scaling (small gradients underflow f16), which is not built; "
                   "use bf16");
    check_argument(r == DType::bf16 && config.dtype == DType::f32, where, "rnn_dtype",
                   std::string("is ") + to_string(r) + " with dtype " + to_string(config.dtype) +
                       "; expected the dtype, or bf16 with f32 (mixed precision)");
  }
  detail::check_thread_count(config.threads, where, "threads");
  RNNDescriptor desc;
  desc.cell = config.cell;
  desc.hidden_size = config.hidden;
  desc.num_layers = static_cast<int>(config.layers);
  desc.dropout = config.dropout;
  desc.input_size = config.io.input_size;
  if (config.io.input == InputKind::tokens) {
    desc.input_size = config.embedding > 0 ? config.embedding : std::min<std::int64_t>(config.hidden, 64);
  } else if (config.embedding > 0) {  // a per-step projection of the features
    desc.input_size = config.embedding;
  }
  rnn_ = std::make_unique<RnnLayer>(desc, config.dtype, config.backend, config.seed, config.threads,
                                    config.rnn_dtype);
  ops_ = make_train_ops(rnn_->device());
  if (config.io.input == InputKind::tokens) {
    embedding_ = Embedding(config.io.input_size, desc.input_size, config.dtype, device(), config.seed + 1);
  }
  output_ = Linear(desc.output_size(), config.io.output_size, true, config.dtype, device(), config.seed + 2);
  if (projected()) {
    projection_ = Linear(config.io.input_size, desc.input_size, true, config.dtype, device(), config.seed + 3);
  }
}

// Features models with embedding > 0 project each step's features (e.g. a video frame's pixels)
// before the RNN: a learned per-frame Linear layer.
bool SequenceModel::projected() const {
  return config_.io.input == InputKind::features && config_.embedding > 0;
}

SequenceModel::~SequenceModel() = default;

const RNNDescriptor& SequenceModel::rnn_descriptor() const { return rnn_->descriptor(); }

std::vector<Shape> SequenceModel::carried_state_shapes(std::int64_t rows) const {
  const RNNDescriptor& d = rnn_->descriptor();
  const std::int64_t stack = static_cast<std::int64_t>(d.num_layers) * (d.bidirectional ? 2 : 1);
  std::vector<Shape> shapes = {Shape{stack, rows, d.state_size()}};
  if (d.has_cell_state()) shapes.push_back(Shape{stack, rows, d.hidden_size});
  return shapes;
}

Device SequenceModel::device() const { return rnn_->device(); }
const RNNWeights& SequenceModel::rnn_weights() const { return rnn_->weights(); }

void SequenceModel::set_stream(void* stream) {
  stream_ = stream;
  ops_->set_stream(stream);
}

std::vector<Parameter> SequenceModel::parameters() const {
  std::vector<Parameter> params;
  if (config_.io.input == InputKind::tokens) {
    for (Parameter& p : embedding_.parameters("embedding.")) params.push_back(std::move(p));
  }
  if (projected()) {
    for (Parameter& p : projection_.parameters("projection.")) params.push_back(std::move(p));
  }
  params.push_back(rnn_->parameter("rnn"));
  params.back().rnn_layout = &rnn_->weights();
  for (Parameter& p : output_.parameters("output.")) params.push_back(std::move(p));
  return params;
}

KeyValues SequenceModel::architecture() const {
  const ModelConfig& m = config_;
  return {{"cell", to_string(m.cell)},
          {"hidden", std::to_string(m.hidden)},
          {"layers", std::to_string(m.layers)},
          {"embedding", std::to_string(m.io.input == InputKind::tokens || projected() ? rnn_descriptor().input_size : 0)},
          {"dtype", to_string(m.dtype)},
          {"rnn_dtype", to_string(rnn_dtype())},
          {"input", to_string(m.io.input)},
          {"input_size", std::to_string(m.io.input_size)},
          {"target", to_string(m.io.target)},
          {"output_size", std::to_string(m.io.output_size)}};
}

KeyValues SequenceModel::settings() const { return {{"dropout", std::to_string(config_.dropout)}}; }

SequenceModel::Forward SequenceModel::run_forward(const Batch& batch, RecurrentState& state, bool training,
                                                  std::uint64_t dropout_seed) {
  const char* where = training ? "SequenceModel::train_step" : "SequenceModel::eval_step";
  check_argument(batch.inputs.defined() && batch.inputs.rank() >= 2, where, "batch.inputs",
                 "must be [T, B] tokens or [T, B, I] features");
  check_argument(batch.inputs.device() == device(), where, "batch", "is on " + to_string(batch.inputs.device()) +
                                                                        ", the model on " + to_string(device()));
  Forward f;
  f.steps = batch.steps();
  f.rows = batch.rows();
  const RNNDescriptor& d = rnn_descriptor();

  Tensor x;
  if (config_.io.input == InputKind::tokens) {
    check_argument(batch.inputs.rank() == 2 && batch.inputs.dtype() == DType::i32, where, "batch.inputs",
                   "must be i32 [T, B] token ids for a token model");
    f.ids = batch.inputs.reshape({f.steps * f.rows});
    x = embedding_.forward(*ops_, f.ids).reshape({f.steps, f.rows, d.input_size});
  } else {
    check_argument(batch.inputs.rank() == 3 && batch.inputs.dim(2) == config_.io.input_size, where,
                   "batch.inputs", "must be [T, B, " + std::to_string(config_.io.input_size) + "] features");
    x = in_dtype(batch.inputs, config_.dtype);
    if (projected()) {
      f.frames = x.reshape({f.steps * f.rows, config_.io.input_size});
      x = projection_.forward(*ops_, f.frames).reshape({f.steps, f.rows, d.input_size});
    }
  }

  // Rows that continue a stream start from their carried state; the others from zeros.
  Tensor h0, c0;
  const std::int64_t carried = std::count(batch.carry_state.begin(), batch.carry_state.end(), 1);
  if (carried > 0 && state.h.defined() && state.h.dim(1) == f.rows) {
    if (carried == f.rows) {
      h0 = state.h;
      c0 = state.c;
    } else {
      auto zero_fresh_rows = [&](const Tensor& s) {
        Tensor host = on_host(s).clone();
        const std::size_t row_bytes = static_cast<std::size_t>(s.dim(2)) * dtype_size(s.dtype());
        char* base = static_cast<char*>(host.data());
        for (std::int64_t l = 0; l < s.dim(0); ++l) {
          for (std::int64_t b = 0; b < f.rows; ++b) {
            if (!batch.carry_state[b]) std::memset(base + (l * f.rows + b) * row_bytes, 0, row_bytes);
          }
        }
        return on_device(host, device());
      };
      h0 = zero_fresh_rows(state.h);
      if (state.c.defined()) c0 = zero_fresh_rows(state.c);
    }
  }
  const RnnStepOutput out = rnn_->forward(x, batch.lengths, h0, c0,
                                          training ? ForwardMode::training : ForwardMode::inference,
                                          dropout_seed, stream_);
  state.h = out.hn;
  state.c = out.cn;

  Tensor features;
  if (is_step_target(config_.io.target)) {
    features = out.y.reshape({f.steps * f.rows, d.output_size()});
  } else {
    features = Tensor::empty({f.rows, d.output_size()}, config_.dtype, device());
    copy_into(first_dim_slice<ConstTensorView>(static_cast<const Tensor&>(out.hn), d.num_layers - 1), features);
  }
  f.features = training ? head_dropout_.forward(*ops_, features, dropout_seed, kHeadDropoutStream) : features;
  f.logits = output_.forward(*ops_, f.features);
  return f;
}

BatchSums SequenceModel::train_step(const Batch& batch, RecurrentState& state, std::uint64_t dropout_seed) {
  Forward f = run_forward(batch, state, true, dropout_seed);
  Tensor dlogits = Tensor::empty(f.logits.shape(), config_.dtype, device());
  LossSum sum;
  const bool step = is_step_target(config_.io.target);
  if (is_class_target(config_.io.target)) {
    const Tensor targets = step ? batch.targets.reshape({f.steps * f.rows}) : batch.targets;
    sum = ops_->softmax_cross_entropy(f.logits, targets, kIgnoreTarget, 1.0, dlogits);
  } else {
    const Tensor targets = in_dtype(step ? batch.targets.reshape({f.steps * f.rows, config_.io.output_size})
                                         : batch.targets, config_.dtype);
    const Tensor mask = step ? step_mask(batch.lengths, f.steps, f.rows, config_.dtype, device()) : Tensor();
    sum = ops_->mean_squared_error(f.logits, targets, mask.defined() ? mask.view() : ConstTensorView(), 1.0,
                                   dlogits);
  }
  if (sum.count > 0) ops_->scale(dlogits, 1.0 / static_cast<double>(sum.count));

  const RNNDescriptor& d = rnn_descriptor();
  Tensor dfeatures = output_.backward(*ops_, f.features, dlogits, true);
  dfeatures = head_dropout_.backward(*ops_, dfeatures, dropout_seed, kHeadDropoutStream);
  Tensor dy, dhn;
  if (step) {
    dy = dfeatures.reshape({f.steps, f.rows, d.output_size()});
  } else {  // only the final state feeds the head: y's gradient is zero
    dy = Tensor::zeros({f.steps, f.rows, d.output_size()}, config_.dtype, device());
    dhn = Tensor::zeros({d.num_layers, f.rows, d.state_size()}, config_.dtype, device());
    copy_into(dfeatures, first_dim_slice<TensorView>(dhn, d.num_layers - 1));
  }
  const bool tokens = config_.io.input == InputKind::tokens;
  const Tensor dx = rnn_->backward(dy, dhn, tokens || projected(), stream_);
  if (tokens) embedding_.backward(*ops_, f.ids, dx.reshape({f.steps * f.rows, d.input_size}));
  if (projected()) projection_.backward(*ops_, f.frames, dx.reshape({f.steps * f.rows, d.input_size}), false);
  return {sum.sum, sum.count, 0};
}

BatchSums SequenceModel::eval_step(const Batch& batch, RecurrentState& state) {
  const Forward f = run_forward(batch, state, false, 0);
  const bool step = is_step_target(config_.io.target);
  BatchSums sums;
  if (is_class_target(config_.io.target)) {
    const Tensor targets = step ? batch.targets.reshape({f.steps * f.rows}) : batch.targets;
    const LossSum s = ops_->softmax_cross_entropy(f.logits, targets, kIgnoreTarget, 1.0, TensorView());
    sums = {s.sum, s.count, correct_predictions(f.logits, targets)};
  } else {
    const Tensor targets = in_dtype(step ? batch.targets.reshape({f.steps * f.rows, config_.io.output_size})
                                         : batch.targets, config_.dtype);
    const Tensor mask = step ? step_mask(batch.lengths, f.steps, f.rows, config_.dtype, device()) : Tensor();
    const LossSum s = ops_->mean_squared_error(f.logits, targets, mask.defined() ? mask.view() : ConstTensorView(),
                                               1.0, TensorView());
    sums = {s.sum, s.count, 0};
  }
  return sums;
}

Tensor SequenceModel::predict(const Batch& batch) {
  RecurrentState state;
  return on_host(run_forward(batch, state, false, 0).logits);
}

std::vector<double> SequenceModel::continue_sequence(const Tensor& inputs, RecurrentState& state) {
  const char* where = "SequenceModel::continue_sequence";
  check_argument(is_step_target(config_.io.target), where, "this",
                 "continues only models with per-step targets (language models, series)");
  const bool tokens = config_.io.input == InputKind::tokens;
  check_argument(inputs.defined() && inputs.device().is_cpu() && inputs.rank() == (tokens ? 1 : 2) &&
                     inputs.dim(0) >= 1 && (tokens ? inputs.dtype() == DType::i32 : inputs.dim(1) == config_.io.input_size),
                 where, "inputs",
                 tokens ? "must be i32 [T] token ids on the host, T >= 1"
                        : "must be [T, " + std::to_string(config_.io.input_size) + "] features on the host, T >= 1");
  const std::int64_t steps = inputs.dim(0);
  const RNNDescriptor& d = rnn_descriptor();
  Tensor x;
  if (tokens) {
    const std::int32_t* ids = inputs.data_as<std::int32_t>();
    for (std::int64_t t = 0; t < steps; ++t) {
      check_argument(ids[t] >= 0 && ids[t] < config_.io.input_size, where, "inputs",
                     "holds token " + std::to_string(ids[t]) + ", outside [0, " +
                         std::to_string(config_.io.input_size) + ")");
    }
    x = embedding_.forward(*ops_, on_device(inputs, device()));  // [T, E]
  } else {
    x = on_device(in_dtype(inputs, config_.dtype), device());  // [T, I]
    if (projected()) x = projection_.forward(*ops_, x);          // [T, E]
  }
  RnnStepOutput out;
  if (steps == 1) {
    out = rnn_->step(x, state.h, state.c, stream_);  // y [1, H_out]
  } else {
    out = rnn_->forward(x.reshape({steps, 1, d.input_size}), Tensor(), state.h, state.c, ForwardMode::inference, 0,
                        stream_);
    Tensor last = Tensor::empty({1, d.output_size()}, config_.dtype, device());
    copy_into(first_dim_slice<ConstTensorView>(static_cast<const Tensor&>(out.y), steps - 1), last.view());
    out.y = last;
  }
  state.h = out.hn;
  state.c = out.cn;
  const Tensor head = on_host(output_.forward(*ops_, out.y));  // [1, output_size]
  std::vector<double> values(static_cast<std::size_t>(head.numel()));
  detail::visit_floating(head.dtype(), [&](auto tag) {
    using T = decltype(tag);
    for (std::size_t k = 0; k < values.size(); ++k) values[k] = static_cast<double>(head.data_as<T>()[k]);
  });
  return values;
}

std::vector<std::int32_t> SequenceModel::sample(const std::vector<std::int32_t>& prompt, std::int64_t count,
                                                double temperature, std::uint64_t seed,
                                                const std::function<void(std::int32_t)>& emit) {
  const char* where = "SequenceModel::sample";
  check_argument(config_.io.input == InputKind::tokens && config_.io.target == TargetKind::step_classes, where,
                 "this", "samples only token models with per-step class targets (language models)");
  check_argument(!prompt.empty(), where, "prompt", "must hold at least one token");
  check_argument(count >= 0, where, "count", "must be >= 0, got " + std::to_string(count));
  check_argument(temperature > 0 && std::isfinite(temperature), where, "temperature",
                 "must be positive, got " + std::to_string(temperature));
  for (std::int32_t token : prompt) {
    check_argument(token >= 0 && token < config_.io.input_size, where, "prompt",
                   "holds token " + std::to_string(token) + ", outside [0, " +
                       std::to_string(config_.io.input_size) + ")");
  }
  std::mt19937_64 rng(seed);
  RecurrentState state;
  std::vector<std::int32_t> out;
  std::vector<std::int32_t> feed = prompt;
  const std::int64_t vocab = config_.io.output_size;
  std::vector<double> p(static_cast<std::size_t>(vocab));
  for (std::int64_t k = 0; k < count; ++k) {
    // The prompt in one call, then one step per token drawn.
    const std::vector<double> logits = continue_sequence(
        Tensor::from_host<std::int32_t>({static_cast<std::int64_t>(feed.size())}, feed.data()), state);
    const double top = *std::max_element(logits.begin(), logits.end());
    double total = 0;
    for (std::int64_t v = 0; v < vocab; ++v) {
      p[v] = std::exp((logits[v] - top) / temperature);
      total += p[v];
    }
    const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53 * total;
    double acc = 0;
    std::int32_t pick = static_cast<std::int32_t>(vocab - 1);
    for (std::int64_t v = 0; v < vocab; ++v) {
      acc += p[v];
      if (u < acc) {
        pick = static_cast<std::int32_t>(v);
        break;
      }
    }
    out.push_back(pick);
    if (emit) emit(pick);
    feed.assign(1, pick);
  }
  return out;
}

}  // namespace gpurnn::train
