// Seq2SeqModel's teacher-forced passes: the training forward and backward (with parallel
// scheduled sampling below full teacher forcing) and the evaluation step.

#include <algorithm>
#include <cmath>

#include "gpurnn/detail/counter_random.h"
#include "train/rnn_layer.h"
#include "train/seq2seq_parts.h"

namespace gpurnn::train {

using namespace seq2seq_detail;

namespace {

constexpr std::uint64_t kDropoutStream = 0x61747465;   // "atte": the attentional output
constexpr std::uint64_t kSamplingStream = 0x73616d70;  // "samp": scheduled sampling draws

}  // namespace

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
  f.targets = index_tensor_of(batch.targets, host_targets, dev);
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

  const RnnInputGradients dec = decoder_->backward(ddecoder_y, Tensor(), Tensor(), true, true, stream_);
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
  const RnnInputGradients enc = encoder_->backward(dvalues, dhn, dcn, true, false, stream_);
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
