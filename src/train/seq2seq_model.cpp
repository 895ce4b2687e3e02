// Seq2SeqModel: construction, parameters, and the encoder and decoder inputs that training
// (seq2seq_train.cpp) and decoding (seq2seq_decode.cpp) share; its checkpoint metadata is in
// seq2seq_config.cpp.

#include <algorithm>
#include <cmath>
#include <map>

#include "core/thread_count.h"
#include "train/rnn_layer.h"
#include "train/seq2seq_parts.h"

namespace gpurnn::train {

using namespace seq2seq_detail;

Seq2SeqModel::Seq2SeqModel(const Seq2SeqConfig& config) : config_(config) {
  const char* where = "Seq2SeqModel";
  const ModelInterface& io = config.io;
  check_argument(is_sequence_target(io.target), where, "io.target",
                 std::string("is ") + to_string(io.target) + ", expected output_tokens or pointers");
  check_argument(io.input_size > 0, where, "io.input_size", "must be positive, got " + std::to_string(io.input_size));
  const bool tokens_out = io.target == TargetKind::output_tokens;
  check_argument(!tokens_out || io.output_size > 0, where, "io.output_size",
                 "must be positive for output tokens, got " + std::to_string(io.output_size));
  check_argument(!tokens_out || io.end_output < io.output_size, where, "io.end_output",
                 "must be -1 or a token below output_size, got " + std::to_string(io.end_output));
  check_argument(io.input == InputKind::features || !(io.target == TargetKind::pointers), where, "io.input",
                 "must be features for a pointer network (the pointed-at features feed the decoder)");
  check_argument(config.hidden > 0, where, "hidden", "must be positive, got " + std::to_string(config.hidden));
  check_argument(!config.bidirectional || config.hidden % 2 == 0, where, "hidden",
                 "must be even with a bidirectional encoder (hidden/2 per direction), got " +
                     std::to_string(config.hidden));
  check_argument(config.layers > 0 && config.layers <= 64, where, "layers",
                 "must be in [1, 64], got " + std::to_string(config.layers));
  check_argument(config.embedding >= 0, where, "embedding", "must be 0 (default) or positive");
  check_argument(config.attention_size >= 0, where, "attention_size", "must be 0 (default) or positive");
  detail::check_thread_count(config.threads, where, "threads");
  check_argument(config.dropout >= 0 && config.dropout < 1, where, "dropout",
                 "must be in [0, 1), got " + std::to_string(config.dropout));
  for (const auto& [name, value] : {std::pair<const char*, double>{"teacher_forcing", config.teacher_forcing},
                                    {"teacher_forcing_final", config.teacher_forcing_final}}) {
    check_argument(value >= 0 && value <= 1, where, name, "must be in [0, 1], got " + std::to_string(value));
  }
  check_argument(config.dtype == DType::f32 || config.dtype == DType::f64, where, "dtype",
                 std::string("must be f32 or f64, got ") + to_string(config.dtype));
  dropout_ = Dropout(config.dropout);

  const std::int64_t width = embedding_width(config);
  RNNDescriptor enc;
  enc.cell = config.cell;
  enc.num_layers = static_cast<int>(config.layers);
  enc.bidirectional = config.bidirectional;
  enc.hidden_size = config.bidirectional ? config.hidden / 2 : config.hidden;
  enc.dropout = config.dropout;
  enc.input_size = width;  // token embeddings, or the features' projection
  encoder_ = std::make_unique<RnnLayer>(enc, config.dtype, config.backend, config.seed, config.threads);
  ops_ = make_train_ops(encoder_->device());
  const Device dev = encoder_->device();

  RNNDescriptor dec = enc;
  dec.bidirectional = false;
  dec.hidden_size = config.hidden;
  dec.input_size = width;
  decoder_ = std::make_unique<RnnLayer>(dec, config.dtype, config.backend, config.seed + 1, config.threads);

  if (io.input == InputKind::tokens) {
    source_embedding_ = Embedding(io.input_size, width, config.dtype, dev, config.seed + 2);
  } else {
    input_projection_ = Linear(io.input_size, width, true, config.dtype, dev, config.seed + 2);
  }
  const std::int64_t attention_size = config.attention_size > 0 ? config.attention_size : config.hidden;
  attention_ = Attention(config.attention, config.hidden, config.hidden, attention_size, config.dtype, dev,
                         config.seed + 3);
  if (tokens_out) {
    // One more id than outputs: the decoder's start token.
    target_embedding_ = Embedding(io.output_size + 1, width, config.dtype, dev, config.seed + 6);
    combine_context_ = Linear(config.hidden, config.hidden, false, config.dtype, dev, config.seed + 7);
    combine_state_ = Linear(config.hidden, config.hidden, true, config.dtype, dev, config.seed + 8);
    output_ = Linear(config.hidden, io.output_size, true, config.dtype, dev, config.seed + 9);
  } else {
    start_ = uniform_parameter({io.input_size}, 1.0, config.dtype, dev, config.seed + 6);
    start_grad_ = Tensor::zeros(start_.shape(), config.dtype, dev);
  }
}

Seq2SeqModel::~Seq2SeqModel() = default;

Device Seq2SeqModel::device() const { return encoder_->device(); }

void Seq2SeqModel::set_stream(void* stream) {
  stream_ = stream;
  ops_->set_stream(stream);
}

std::vector<Parameter> Seq2SeqModel::parameters() const {
  std::vector<Parameter> params;
  const auto append = [&](std::vector<Parameter> more) {
    for (Parameter& p : more) params.push_back(std::move(p));
  };
  if (config_.io.input == InputKind::tokens) {
    append(source_embedding_.parameters("source_embedding."));
  } else {
    append(input_projection_.parameters("input_projection."));
  }
  params.push_back(encoder_->parameter("encoder"));
  params.back().rnn_layout = &encoder_->weights();
  if (config_.io.target == TargetKind::output_tokens) {
    append(target_embedding_.parameters("target_embedding."));
  } else {
    params.push_back(Parameter{"start", start_, start_grad_});
  }
  params.push_back(decoder_->parameter("decoder"));
  params.back().rnn_layout = &decoder_->weights();
  append(attention_.parameters("attention."));
  if (config_.io.target == TargetKind::output_tokens) {
    append(combine_context_.parameters("combine_context."));
    append(combine_state_.parameters("combine_state."));
    append(output_.parameters("output."));
  }
  return params;
}

Seq2SeqModel::Encoded Seq2SeqModel::encode(const Batch& batch, bool training, std::uint64_t dropout_seed) {
  const char* where = "Seq2SeqModel";
  check_argument(batch.inputs.defined() && batch.inputs.rank() >= 2, where, "batch.inputs",
                 "must be [S, B] tokens or [S, B, I] features");
  Encoded e;
  e.positions = batch.inputs.dim(0);
  e.rows = batch.inputs.dim(1);
  e.table_rows = e.rows;
  e.origin.resize(static_cast<std::size_t>(e.rows));
  for (std::int64_t b = 0; b < e.rows; ++b) e.origin[b] = static_cast<std::int32_t>(b);
  if (batch.lengths.defined()) {
    e.lengths = host_ints(batch.lengths);
    check_argument(static_cast<std::int64_t>(e.lengths.size()) == e.rows, where, "batch.lengths",
                   "must have one length per row");
    for (std::int32_t len : e.lengths) {
      check_argument(len >= 1 && len <= e.positions, where, "batch.lengths",
                     "has " + std::to_string(len) + ", expected lengths in [1, " + std::to_string(e.positions) + "]");
    }
  } else {
    e.lengths.assign(static_cast<std::size_t>(e.rows), static_cast<std::int32_t>(e.positions));
  }
  const Device dev = device();
  const Tensor inputs = batch.inputs.device() == dev ? batch.inputs : batch.inputs.to(dev);
  // The encoder (a Backend call) reads the lengths on the host; the attention mask on the device.
  const Tensor host_lengths = index_tensor_of(batch.lengths, e.lengths, Device::cpu());
  const Tensor device_lengths = index_tensor_of(batch.lengths_on(dev), e.lengths, dev);
  Tensor x;
  if (config_.io.input == InputKind::tokens) {
    check_argument(inputs.rank() == 2 && inputs.dtype() == DType::i32, where, "batch.inputs",
                   "must be i32 [S, B] token ids");
    e.source_ids = inputs.reshape({e.positions * e.rows});
    x = source_embedding_.forward(*ops_, e.source_ids).reshape({e.positions, e.rows, source_embedding_.dim()});
  } else {
    check_argument(inputs.rank() == 3 && inputs.dim(2) == config_.io.input_size, where, "batch.inputs",
                   "must be [S, B, " + std::to_string(config_.io.input_size) + "] features");
    e.source_features = in_dtype(inputs, config_.dtype);
    x = input_projection_.forward(*ops_, flat_rows(e.source_features).view())
            .reshape({e.positions, e.rows, input_projection_.out_features()});
  }
  const RnnStepOutput out = encoder_->forward(x, host_lengths, Tensor(), Tensor(),
                                              training ? ForwardMode::training : ForwardMode::inference,
                                              dropout_seed, stream_);
  e.memory = attention_.prepare(*ops_, out.y, device_lengths);
  e.encoder_hn = out.hn;
  e.encoder_cn = out.cn;
  if (config_.bidirectional) {
    // Layer l of the decoder starts from [forward final state ; backward final state] of layer l:
    // row (l*B + b)*2 + d of the joined [L*B*2, H/2] is row (2l + d)*B + b of hn.
    std::vector<std::int32_t> ids;
    for (std::int64_t l = 0; l < config_.layers; ++l) {
      for (std::int64_t b = 0; b < e.rows; ++b) {
        for (std::int64_t d = 0; d < 2; ++d) ids.push_back(static_cast<std::int32_t>((2 * l + d) * e.rows + b));
      }
    }
    const std::int64_t half = config_.hidden / 2;
    const Shape joined{config_.layers, e.rows, config_.hidden};
    e.h0 = gather_rows(*ops_, out.hn, half, ids).reshape(joined);
    if (out.cn.defined()) e.c0 = gather_rows(*ops_, out.cn, half, ids).reshape(joined);
    e.bridge_ids = index_tensor(ids, dev);
  } else {
    e.h0 = out.hn;
    e.c0 = out.cn;
  }
  if (config_.io.target == TargetKind::pointers) {
    const std::int64_t f = config_.io.input_size;
    e.feature_table = Tensor::empty({e.positions * e.rows + 1, f}, config_.dtype, dev);
    Tensor table = e.feature_table;
    const std::size_t bytes = dtype_size(config_.dtype);
    copy_into(e.source_features.view(), TensorView(table.data(), {e.positions * e.rows, f}, config_.dtype, dev));
    copy_into(start_.view(), TensorView(static_cast<char*>(table.data()) + e.positions * e.rows * f * bytes, {f},
                                        config_.dtype, dev));
  }
  return e;
}

std::int32_t Seq2SeqModel::input_id(const Encoded& e, std::int32_t previous, std::int64_t row) const {
  if (config_.io.target == TargetKind::output_tokens) {
    return previous == kIgnoreTarget ? static_cast<std::int32_t>(config_.io.output_size) : previous;
  }
  const auto b0 = static_cast<std::int32_t>(e.table_rows);
  return previous == kIgnoreTarget ? static_cast<std::int32_t>(e.positions) * b0 : previous * b0 + e.origin[row];
}

Tensor Seq2SeqModel::decoder_input(const Encoded& e, const std::vector<std::int32_t>& ids, std::int64_t steps,
                                   Tensor* features) const {
  const auto rows = static_cast<std::int64_t>(ids.size()) / steps;
  Tensor x;
  if (config_.io.target == TargetKind::output_tokens) {
    x = target_embedding_.forward(*ops_, index_tensor(ids, device()));
  } else {
    // The pointed-at points' features, through the encoder's input projection.
    const Tensor gathered = gather_rows(*ops_, e.feature_table, config_.io.input_size, ids);
    x = input_projection_.forward(*ops_, gathered.view());
    if (features != nullptr) *features = gathered;
  }
  return x.reshape({steps, rows, x.dim(1)});
}

}  // namespace gpurnn::train
