// Seq2SeqModel: construction, checkpoint metadata, and the teacher-forced training and evaluation
// passes (decoding is in seq2seq_decode.cpp).

#include <algorithm>
#include <cmath>
#include <map>

#include "gpurnn/detail/counter_random.h"
#include "train/rnn_layer.h"
#include "train/seq2seq_parts.h"

namespace gpurnn::train {

using namespace seq2seq_detail;

namespace {

constexpr std::uint64_t kDropoutStream = 0x61747465;      // "atte": the attentional output
constexpr std::uint64_t kSamplingStream = 0x73616d70;     // "samp": scheduled sampling draws

Tensor in_dtype(const Tensor& t, DType dtype) { return t.dtype() == dtype ? t : t.to(dtype); }
Tensor flat_rows(const Tensor& t) { return t.reshape({t.dim(0) * t.dim(1), t.dim(2)}); }

std::int64_t embedding_width(const Seq2SeqConfig& c) {
  return c.embedding > 0 ? c.embedding : std::min<std::int64_t>(c.hidden, 64);
}

std::vector<std::int32_t> host_ints(const Tensor& t) {
  const Tensor h = on_host(t);
  const std::int32_t* p = h.data_as<std::int32_t>();
  return std::vector<std::int32_t>(p, p + h.numel());
}

// Argmax of each row of scores [N, K] (host).
std::vector<std::int32_t> argmax_rows(const Tensor& scores) {
  const std::vector<double> logp = log_softmax_rows(scores);
  const std::int64_t k = scores.dim(scores.rank() - 1);
  std::vector<std::int32_t> best(logp.size() / static_cast<std::size_t>(k));
  for (std::size_t r = 0; r < best.size(); ++r) {
    const auto row = logp.begin() + static_cast<std::ptrdiff_t>(r * k);
    best[r] = static_cast<std::int32_t>(std::max_element(row, row + k) - row);
  }
  return best;
}

}  // namespace

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

KeyValues Seq2SeqModel::architecture() const {
  const Seq2SeqConfig& c = config_;
  return {{"model", "seq2seq"},
          {"cell", to_string(c.cell)},
          {"hidden", std::to_string(c.hidden)},
          {"layers", std::to_string(c.layers)},
          {"bidirectional", c.bidirectional ? "1" : "0"},
          {"embedding", std::to_string(c.embedding)},
          {"attention", to_string(c.attention)},
          {"attention_size", std::to_string(c.attention_size)},
          {"dtype", to_string(c.dtype)},
          {"input", to_string(c.io.input)},
          {"input_size", std::to_string(c.io.input_size)},
          {"target", to_string(c.io.target)},
          {"output_size", std::to_string(c.io.output_size)},
          {"end_output", std::to_string(c.io.end_output)},
          {"exclusive_pointers", c.io.exclusive_pointers ? "1" : "0"},
          {"max_output", std::to_string(c.io.max_output)}};
}

KeyValues Seq2SeqModel::settings() const {
  return {{"dropout", std::to_string(config_.dropout)},
          {"teacher_forcing", std::to_string(config_.teacher_forcing)},
          {"teacher_forcing_final", std::to_string(config_.teacher_forcing_final)}};
}

Seq2SeqConfig seq2seq_config_from_metadata(const std::map<std::string, std::string>& metadata,
                                           const std::string& origin) {
  const auto value = [&](const std::string& key) -> const std::string& {
    const auto it = metadata.find(key);
    if (it == metadata.end()) {
      throw Error(ErrorCode::io_error, "'" + origin + "' has no metadata entry '" + key + "' (not a seq2seq checkpoint?)");
    }
    return it->second;
  };
  const auto number = [&](const std::string& key) {
    try {
      return std::stod(value(key));
    } catch (const std::exception&) {
      throw Error(ErrorCode::io_error, "'" + origin + "': metadata '" + key + "' is '" + value(key) + "', expected a number");
    }
  };
  const auto integer = [&](const std::string& key) { return static_cast<std::int64_t>(std::llround(number(key))); };
  Seq2SeqConfig c;
  c.cell = parse_cell_kind(value("cell"));
  c.hidden = integer("hidden");
  c.layers = integer("layers");
  c.bidirectional = integer("bidirectional") != 0;
  c.embedding = integer("embedding");
  c.attention = parse_attention_score(value("attention"), "'" + origin + "' metadata 'attention'");
  c.attention_size = integer("attention_size");
  c.dtype = parse_dtype(value("dtype"));
  c.io.input = parse_input_kind(value("input"), "'" + origin + "' metadata 'input'");
  c.io.input_size = integer("input_size");
  c.io.target = parse_target_kind(value("target"), "'" + origin + "' metadata 'target'");
  c.io.output_size = integer("output_size");
  c.io.end_output = static_cast<std::int32_t>(integer("end_output"));
  c.io.exclusive_pointers = integer("exclusive_pointers") != 0;
  c.io.max_output = integer("max_output");
  c.dropout = number("dropout");
  c.teacher_forcing = number("teacher_forcing");
  c.teacher_forcing_final = number("teacher_forcing_final");
  return c;
}

double Seq2SeqModel::teacher_forcing_at(std::int64_t step, std::int64_t total_steps) const {
  if (total_steps <= 1) return config_.teacher_forcing;
  const double progress = std::clamp(static_cast<double>(step) / static_cast<double>(total_steps - 1), 0.0, 1.0);
  return config_.teacher_forcing + (config_.teacher_forcing_final - config_.teacher_forcing) * progress;
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
  const Tensor lengths = index_tensor(e.lengths, dev);
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
  const RnnStepOutput out = encoder_->forward(x, lengths, Tensor(), Tensor(),
                                              training ? ForwardMode::training : ForwardMode::inference,
                                              dropout_seed, stream_);
  e.memory = attention_.prepare(*ops_, out.y, lengths);
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

Seq2SeqModel::Forward Seq2SeqModel::run_forward(const Batch& batch, const std::vector<std::int32_t>& host_targets,
                                                bool training, std::uint64_t dropout_seed,
                                                const std::vector<std::int32_t>& fed_outputs) {
  Forward f;
  f.e = encode(batch, training, dropout_seed);
  f.steps = batch.targets.dim(0);
  f.dropout_seed = dropout_seed;
  const std::int64_t rows = f.e.rows;
  const Device dev = device();
  const bool tokens = config_.io.target == TargetKind::output_tokens;
  // Step u reads what was fed as step u-1's output (step 0: the start).
  std::vector<std::int32_t> ids(static_cast<std::size_t>(f.steps * rows));
  for (std::int64_t u = 0; u < f.steps; ++u) {
    for (std::int64_t r = 0; r < rows; ++r) {
      ids[u * rows + r] = input_id(f.e, u == 0 ? kIgnoreTarget : fed_outputs[(u - 1) * rows + r], r);
    }
  }
  f.decoder_x = decoder_input(f.e, ids, f.steps, &f.decoder_features);
  f.decoder_ids = index_tensor(ids, dev);  // for the embedding's (or the feature table's) backward
  const RnnStepOutput dec = decoder_->forward(f.decoder_x, Tensor(), f.e.h0, f.e.c0,
                                              training ? ForwardMode::training : ForwardMode::inference,
                                              dropout_seed + 1, stream_);
  f.decoder_y = dec.y;
  if (!tokens && config_.io.exclusive_pointers) {
    f.excluded = excluded_positions(host_targets, f.steps, rows, f.e.positions, config_.io.end_output, dev);
  }
  f.scores = attention_.scores(*ops_, f.e.memory, f.decoder_y, f.excluded);
  f.targets = index_tensor(host_targets, dev);
  if (!tokens) {
    f.logits = f.scores.scores.reshape({f.steps * rows, f.e.positions});
    return f;
  }
  f.head = token_head(f.e.memory, f.decoder_y, f.scores.scores, training, dropout_seed);
  f.logits = f.head.logits;
  return f;
}

Seq2SeqModel::TokenHead Seq2SeqModel::token_head(const AttentionMemory& memory, const Tensor& decoder_y,
                                                 const Tensor& scores, bool training, std::uint64_t dropout_seed) {
  const std::int64_t steps = scores.dim(0), rows = scores.dim(1), positions = scores.dim(2);
  const Shape score_rows{steps * rows, positions};
  TokenHead h;
  h.probs = Tensor::empty(scores.shape(), config_.dtype, device());
  ops_->softmax(scores.reshape(score_rows).view(), h.probs.reshape(score_rows).view());
  h.context = Tensor::empty({steps, rows, config_.hidden}, config_.dtype, device());
  ops_->attention_context(h.probs.view(), memory.values.view(), h.context.view());
  h.combined = combine_state_.forward(*ops_, flat_rows(decoder_y).view());
  ops_->add_scaled(combine_context_.forward(*ops_, flat_rows(h.context).view()).view(), 1.0, h.combined.view());
  ops_->tanh_forward(h.combined.view(), h.combined.view());
  h.head_in = training ? dropout_.forward(*ops_, h.combined, dropout_seed, kDropoutStream) : h.combined;
  h.logits = output_.forward(*ops_, h.head_in.view());
  return h;
}

BatchSums Seq2SeqModel::backward_and_loss(Forward& f, std::int64_t counted) {
  const bool tokens = config_.io.target == TargetKind::output_tokens;
  const std::int64_t rows = f.e.rows;
  const Device dev = device();
  BatchSums sums;
  sums.count = counted;
  if (counted == 0) return sums;
  Tensor dlogits = Tensor::empty(f.logits.shape(), config_.dtype, dev);
  sums.loss = ops_->softmax_cross_entropy(f.logits.view(), f.targets.view(), kIgnoreTarget,
                                          1.0 / static_cast<double>(counted), dlogits.view())
                  .sum;

  Tensor dvalues = Tensor::zeros(f.e.memory.values.shape(), config_.dtype, dev);
  Tensor ddecoder_y;
  if (tokens) {
    Tensor dhead = output_.backward(*ops_, f.head.head_in.view(), dlogits.view(), true);
    dhead = dropout_.backward(*ops_, dhead, f.dropout_seed, kDropoutStream);
    ops_->tanh_backward(f.head.combined.view(), dhead.view(), dhead.view());
    const Tensor dcontext = combine_context_.backward(*ops_, flat_rows(f.head.context).view(), dhead.view(), true);
    ddecoder_y = combine_state_.backward(*ops_, flat_rows(f.decoder_y).view(), dhead.view(), true)
                     .reshape(f.decoder_y.shape());
    Tensor dprobs = Tensor::empty(f.head.probs.shape(), config_.dtype, dev);
    ops_->attention_context_backward(f.head.probs.view(), f.e.memory.values.view(),
                                     dcontext.reshape(f.head.context.shape()).view(), dprobs.view(), dvalues.view(), true);
    const Shape rows_shape{f.steps * rows, f.e.positions};
    ops_->softmax_backward(f.head.probs.reshape(rows_shape).view(), dprobs.reshape(rows_shape).view(),
                           dprobs.reshape(rows_shape).view());
    const Tensor dquery = attention_.backward(*ops_, f.e.memory, f.scores, dprobs, dvalues);
    ops_->add_scaled(dquery.view(), 1.0, ddecoder_y.view());
  } else {
    ddecoder_y = attention_.backward(*ops_, f.e.memory, f.scores, dlogits.reshape(f.scores.scores.shape()), dvalues);
  }

  const RnnGradients dec = decoder_->backward(ddecoder_y, Tensor(), Tensor(), true, true, stream_);
  const Tensor ddecoder_x = flat_rows(dec.dx);
  if (tokens) {
    target_embedding_.backward(*ops_, f.decoder_ids.view(), ddecoder_x.view());
  } else {
    // The feature table's gradient: only its last row (the start vector) is a parameter.
    const Tensor dfeatures = input_projection_.backward(*ops_, f.decoder_features.view(), ddecoder_x.view(), true);
    Tensor dtable = Tensor::empty(f.e.feature_table.shape(), config_.dtype, dev);
    ops_->embedding_backward(f.decoder_ids.view(), dfeatures.view(), dtable.view(), false);
    const std::int64_t width = config_.io.input_size;
    ops_->add_scaled(ConstTensorView(static_cast<const char*>(dtable.data()) +
                                         (dtable.dim(0) - 1) * width * dtype_size(config_.dtype),
                                     {width}, config_.dtype, dev),
                     1.0, start_grad_.view());
  }

  Tensor dhn = dec.dh0, dcn = dec.dc0;
  if (config_.bidirectional) {
    // The bridge's gather backward: each encoder final state row was read once.
    const std::int64_t half = config_.hidden / 2;
    const auto scatter = [&](const Tensor& djoined, const Tensor& like) {
      Tensor d = Tensor::empty(like.shape(), config_.dtype, dev);
      ops_->embedding_backward(f.e.bridge_ids.view(), djoined.reshape({djoined.numel() / half, half}).view(),
                               d.reshape({d.numel() / half, half}).view(), false);
      return d;
    };
    dhn = scatter(dec.dh0, f.e.encoder_hn);
    if (dec.dc0.defined()) dcn = scatter(dec.dc0, f.e.encoder_cn);
  }
  const RnnGradients enc = encoder_->backward(dvalues, dhn, dcn, true, false, stream_);
  if (config_.io.input == InputKind::tokens) {
    source_embedding_.backward(*ops_, f.e.source_ids.view(), flat_rows(enc.dx).view());
  } else {
    input_projection_.backward(*ops_, flat_rows(f.e.source_features).view(), flat_rows(enc.dx).view(), false);
  }
  return sums;
}

std::vector<std::int32_t> Seq2SeqModel::checked_reference(const Batch& batch, const char* where) const {
  check_argument(batch.targets.defined() && batch.targets.rank() == 2 && batch.targets.dtype() == DType::i32, where,
                 "batch.targets", "must be i32 [U, B] reference outputs");
  check_argument(batch.inputs.defined() && batch.inputs.rank() >= 2 && batch.targets.dim(1) == batch.inputs.dim(1),
                 where, "batch.targets", "must have one column per input row");
  const std::vector<std::int32_t> reference = host_ints(batch.targets);
  const std::int64_t steps = batch.targets.dim(0), rows = batch.targets.dim(1);
  const bool tokens = config_.io.target == TargetKind::output_tokens;
  const std::vector<std::int32_t> lengths =
      batch.lengths.defined() ? host_ints(batch.lengths)
                              : std::vector<std::int32_t>(static_cast<std::size_t>(rows),
                                                          static_cast<std::int32_t>(batch.inputs.dim(0)));
  for (std::int64_t b = 0; b < rows; ++b) {
    std::vector<bool> seen(static_cast<std::size_t>(std::max<std::int32_t>(lengths[b], 0)), false);
    for (std::int64_t u = 0; u < steps; ++u) {
      const std::int32_t t = reference[u * rows + b];
      if (t == kIgnoreTarget) continue;
      const std::int64_t limit = tokens ? config_.io.output_size : lengths[b];
      if (t < 0 || t >= limit) {
        throw Error(ErrorCode::invalid_argument,
                    std::string(where) + ": batch.targets[" + std::to_string(u) + ", " + std::to_string(b) + "] is " +
                        std::to_string(t) + ", expected " + (tokens ? "a token" : "a position of the row") + " in [0, " +
                        std::to_string(limit) + ") or kIgnoreTarget");
      }
      if (!tokens && config_.io.exclusive_pointers && t != config_.io.end_output) {
        if (seen[t]) {
          throw Error(ErrorCode::invalid_argument, std::string(where) + ": batch.targets of row " + std::to_string(b) +
                                                       " points at position " + std::to_string(t) +
                                                       " twice, but this model's pointers are exclusive");
        }
        seen[t] = true;
      }
    }
  }
  return reference;
}

std::int64_t Seq2SeqModel::counted_targets(const std::vector<std::int32_t>& reference) {
  return std::count_if(reference.begin(), reference.end(), [](std::int32_t t) { return t != kIgnoreTarget; });
}

BatchSums Seq2SeqModel::train_step(const Batch& batch, RecurrentState& /*state*/, const StepContext& context) {
  const std::vector<std::int32_t> reference = checked_reference(batch, "Seq2SeqModel::train_step");
  std::vector<std::int32_t> fed = reference;
  const double ratio = teacher_forcing_at(context.step, context.total_steps);
  if (ratio < 1.0) {
    // Parallel scheduled sampling: predict every step from the reference prefix (no gradient),
    // then feed a prediction instead of the reference with probability 1 - ratio.
    const Forward first = run_forward(batch, reference, false, 0, reference);
    const std::vector<std::int32_t> predicted = argmax_rows(first.logits);
    for (std::size_t i = 0; i < fed.size(); ++i) {
      if (fed[i] == kIgnoreTarget) continue;
      if (detail::random_uniform(context.dropout_seed, kSamplingStream, i) >= ratio) fed[i] = predicted[i];
    }
  }
  Forward f = run_forward(batch, reference, true, context.dropout_seed, fed);
  return backward_and_loss(f, counted_targets(reference));
}

BatchSums Seq2SeqModel::eval_step(const Batch& batch, RecurrentState& /*state*/) {
  const std::vector<std::int32_t> reference = checked_reference(batch, "Seq2SeqModel::eval_step");
  const Forward f = run_forward(batch, reference, false, 0, reference);
  const LossSum loss = ops_->softmax_cross_entropy(f.logits.view(), f.targets.view(), kIgnoreTarget, 0.0, {});
  BatchSums sums{loss.sum, loss.count, 0};
  const std::vector<std::int32_t> predicted = argmax_rows(f.logits);
  for (std::size_t i = 0; i < reference.size(); ++i) sums.correct += reference[i] != kIgnoreTarget && predicted[i] == reference[i];
  return sums;
}

}  // namespace gpurnn::train
