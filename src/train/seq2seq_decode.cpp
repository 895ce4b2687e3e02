// Seq2SeqModel decoding: greedy and beam search, one decoder step per output through the
// backend's single-step call (RnnLayer::step), with the beam's bookkeeping on the host.

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "train/rnn_layer.h"
#include "train/seq2seq_parts.h"

namespace gpurnn::train {

using namespace seq2seq_detail;

namespace {

constexpr double kMinusInfinity = -std::numeric_limits<double>::infinity();

// A log-probability as decoding ranks it: NaN (from NaN weights or inputs) below every number
// but still allowed, so that it never wins over an allowed output nor breaks the ordering, and an
// excluded output (-infinity) stays excluded.
double ranked(double logp) { return std::isnan(logp) ? std::numeric_limits<double>::lowest() : logp; }

// Exclusive pointers, enforced on the host as well: a position a row has output is -infinity in
// its log-probabilities whatever the device computed (NaN scores give NaN everywhere, masked
// positions included).
void exclude_history(std::vector<double>& logp, std::int64_t classes,
                     const std::vector<std::vector<std::int32_t>>& history, std::int32_t end_output) {
  for (std::size_t r = 0; r < history.size(); ++r) {
    for (std::int32_t p : history[r]) {
      if (p >= 0 && p < classes && p != end_output) {
        logp[r * static_cast<std::size_t>(classes) + static_cast<std::size_t>(p)] = kMinusInfinity;
      }
    }
  }
}

// The most likely output of one row of `classes` log-probabilities: never an excluded one while
// any other is allowed (so exclusive pointers never repeat, whatever the scores).
std::int32_t best_output(const double* row, std::int64_t classes) {
  std::int32_t best = 0;
  for (std::int64_t v = 1; v < classes; ++v) {
    if (ranked(row[v]) > ranked(row[best])) best = static_cast<std::int32_t>(v);
  }
  return best;
}

// Wu et al. (2016)'s length penalty: ((5 + length) / 6)^alpha.
double length_penalty(std::int64_t length, double alpha) {
  return alpha == 0.0 ? 1.0 : std::pow((5.0 + static_cast<double>(length)) / 6.0, alpha);
}

// u8 [1, rows, S]: per row, the positions its history already output (the end position stays allowed).
Tensor excluded_by_history(const std::vector<std::vector<std::int32_t>>& history, std::int64_t positions,
                           std::int32_t end_output, Device device) {
  const auto rows = static_cast<std::int64_t>(history.size());
  Tensor mask = Tensor::zeros({1, rows, positions}, DType::u8);
  std::uint8_t* m = mask.data_as<std::uint8_t>();
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int32_t p : history[r]) {
      if (p >= 0 && p < positions && p != end_output) m[r * positions + p] = 1;
    }
  }
  return on_device(mask, device);
}

struct Hypothesis {
  std::vector<std::int32_t> outputs;
  double logp = 0.0;
  bool ended = false;  // output end_output
};

}  // namespace

std::int64_t Seq2SeqModel::output_classes(const Encoded& e) const {
  return config_.io.target == TargetKind::output_tokens ? config_.io.output_size : e.positions;
}

std::vector<double> Seq2SeqModel::decode_step(const Encoded& e, const std::vector<std::int32_t>& previous,
                                              const Tensor& excluded, Tensor& h, Tensor& c) {
  std::vector<std::int32_t> ids(previous.size());
  for (std::size_t r = 0; r < previous.size(); ++r) ids[r] = input_id(e, previous[r], static_cast<std::int64_t>(r));
  const Tensor x = decoder_input(e, ids, 1);
  RnnStepOutput out = decoder_->step(x.reshape({e.rows, x.dim(2)}), h, c, stream_);
  h = out.hn;
  c = out.cn;
  const Tensor query = out.y.reshape({1, e.rows, out.y.dim(1)});
  const AttentionScores s = attention_.scores(*ops_, e.memory, query, excluded);
  if (config_.io.target == TargetKind::pointers) return log_softmax_rows(s.scores);
  return log_softmax_rows(token_head(e.memory, query, s.scores, false, 0).logits);
}

Seq2SeqModel::Encoded Seq2SeqModel::expanded(const Encoded& e, std::int64_t width) {
  if (width == 1) return e;
  Encoded x = e;
  x.rows = e.rows * width;
  x.lengths.clear();
  x.origin.clear();
  for (std::int64_t b = 0; b < e.rows; ++b) {
    for (std::int64_t k = 0; k < width; ++k) {
      x.lengths.push_back(e.lengths[b]);
      x.origin.push_back(e.origin[b]);
    }
  }
  // Row s*(B*width) + b*width + k of a [S, B*width, D] tensor is row s*B + b of the [S, B, D] one
  // (and likewise for [L, B, H] states).
  const auto repeat = [&](const Tensor& t) {
    if (!t.defined()) return t;
    std::vector<std::int32_t> ids;
    for (std::int64_t s = 0; s < t.dim(0); ++s) {
      for (std::int64_t b = 0; b < e.rows; ++b) {
        for (std::int64_t k = 0; k < width; ++k) ids.push_back(static_cast<std::int32_t>(s * e.rows + b));
      }
    }
    return gather_rows(*ops_, t, t.dim(2), ids).reshape({t.dim(0), x.rows, t.dim(2)});
  };
  x.memory.values = repeat(e.memory.values);
  x.memory.keys = e.memory.keys.data() == e.memory.values.data() ? x.memory.values : repeat(e.memory.keys);
  x.memory.lengths = index_tensor(x.lengths, device());
  x.h0 = repeat(e.h0);
  x.c0 = repeat(e.c0);
  return x;
}

std::vector<std::vector<std::int32_t>> Seq2SeqModel::decode(const Batch& batch, const DecodeOptions& options) {
  const char* where = "Seq2SeqModel::decode";
  check_argument(options.beam >= 1, where, "options.beam", "must be >= 1, got " + std::to_string(options.beam));
  check_argument(options.length_penalty >= 0, where, "options.length_penalty", "must be >= 0");
  check_argument(options.max_length >= 0, where, "options.max_length", "must be >= 0 (0: the task's rule)");
  const Encoded e = encode(batch, false, 0);
  // Each row's longest output.
  const ModelInterface& io = config_.io;
  std::vector<std::int64_t> limits;
  for (std::int32_t len : e.lengths) {
    std::int64_t limit = options.max_length > 0 ? options.max_length
                         : io.max_output > 0    ? io.max_output
                         : io.end_output < 0    ? len
                                                : 2 * static_cast<std::int64_t>(len) + 2;
    // Exclusive pointers run out of positions: every position once, plus the end.
    if (io.target == TargetKind::pointers && io.exclusive_pointers) {
      limit = std::min<std::int64_t>(limit, len + (io.end_output >= 0 ? 1 : 0));
    }
    limits.push_back(limit);
  }
  const bool use_greedy = options.method == DecodeMethod::greedy ||
                          (options.method == DecodeMethod::automatic && options.beam == 1);
  return use_greedy ? greedy(e, limits) : beam_search(e, limits, options);
}

std::vector<std::vector<std::int32_t>> Seq2SeqModel::greedy(const Encoded& e, const std::vector<std::int64_t>& limits) {
  const std::int64_t classes = output_classes(e);
  const bool exclusive = config_.io.target == TargetKind::pointers && config_.io.exclusive_pointers;
  std::vector<std::vector<std::int32_t>> outputs(static_cast<std::size_t>(e.rows));
  std::vector<bool> done(outputs.size(), false);
  std::vector<std::int32_t> previous(outputs.size(), kIgnoreTarget);
  Tensor h = e.h0, c = e.c0;
  const std::int64_t longest = *std::max_element(limits.begin(), limits.end());
  for (std::int64_t step = 0; step < longest; ++step) {
    const Tensor excluded = exclusive ? excluded_by_history(outputs, e.positions, config_.io.end_output, device()) : Tensor();
    std::vector<double> logp = decode_step(e, previous, excluded, h, c);
    if (exclusive) exclude_history(logp, classes, outputs, config_.io.end_output);
    bool all_done = true;
    for (std::int64_t r = 0; r < e.rows; ++r) {
      if (done[r]) continue;
      const std::int32_t best = best_output(logp.data() + r * classes, classes);
      outputs[r].push_back(best);
      previous[r] = best;
      done[r] = best == config_.io.end_output || static_cast<std::int64_t>(outputs[r].size()) >= limits[r];
      all_done = all_done && done[r];
    }
    if (all_done) break;
  }
  return outputs;
}

std::vector<std::vector<std::int32_t>> Seq2SeqModel::beam_search(const Encoded& e0,
                                                                 const std::vector<std::int64_t>& limits,
                                                                 const DecodeOptions& options) {
  const std::int64_t width = options.beam;
  const Encoded e = expanded(e0, width);
  const std::int64_t classes = output_classes(e);
  const bool exclusive = config_.io.target == TargetKind::pointers && config_.io.exclusive_pointers;
  const std::int32_t end = config_.io.end_output;
  const auto normalised = [&](const Hypothesis& hyp) {
    return hyp.logp / length_penalty(static_cast<std::int64_t>(hyp.outputs.size()), options.length_penalty);
  };

  // Per example: up to `width` live hypotheses (beam row b*width + k) and the finished ones. A
  // fresh beam holds one hypothesis, so the first step does not fill the beam with copies.
  std::vector<std::vector<Hypothesis>> live(static_cast<std::size_t>(e0.rows), std::vector<Hypothesis>(1));
  std::vector<std::vector<Hypothesis>> finished(static_cast<std::size_t>(e0.rows));
  Tensor h = e.h0, c = e.c0;
  const std::int64_t longest = *std::max_element(limits.begin(), limits.end());
  for (std::int64_t step = 0; step < longest; ++step) {
    std::vector<std::int32_t> previous(static_cast<std::size_t>(e.rows), kIgnoreTarget);
    std::vector<std::vector<std::int32_t>> history(static_cast<std::size_t>(e.rows));
    for (std::int64_t b = 0; b < e0.rows; ++b) {
      for (std::size_t k = 0; k < live[b].size(); ++k) {
        const std::int64_t r = b * width + static_cast<std::int64_t>(k);
        history[r] = live[b][k].outputs;
        if (!history[r].empty()) previous[r] = history[r].back();
      }
    }
    const Tensor excluded = exclusive ? excluded_by_history(history, e.positions, end, device()) : Tensor();
    std::vector<double> logp = decode_step(e, previous, excluded, h, c);
    if (exclusive) exclude_history(logp, classes, history, end);

    std::vector<std::int32_t> parents(static_cast<std::size_t>(e.rows));
    bool any_live = false;
    for (std::int64_t b = 0; b < e0.rows; ++b) {
      for (std::int64_t k = 0; k < width; ++k) parents[b * width + k] = static_cast<std::int32_t>(b * width);
      if (live[b].empty()) continue;
      struct Candidate {
        double logp;
        std::int64_t parent;
        std::int32_t output;
      };
      std::vector<Candidate> candidates;
      for (std::size_t k = 0; k < live[b].size(); ++k) {
        const std::int64_t r = b * width + static_cast<std::int64_t>(k);
        for (std::int64_t v = 0; v < classes; ++v) {
          const double lp = ranked(logp[r * classes + v]);
          if (lp == kMinusInfinity) continue;
          candidates.push_back({live[b][k].logp + lp, static_cast<std::int64_t>(k), static_cast<std::int32_t>(v)});
        }
      }
      std::sort(candidates.begin(), candidates.end(), [](const Candidate& x, const Candidate& y) {
        return x.logp != y.logp ? x.logp > y.logp : (x.parent != y.parent ? x.parent < y.parent : x.output < y.output);
      });
      std::vector<Hypothesis> next;
      for (const Candidate& cand : candidates) {
        if (static_cast<std::int64_t>(next.size()) >= width) break;
        Hypothesis hyp = live[b][cand.parent];
        hyp.outputs.push_back(cand.output);
        hyp.logp = cand.logp;
        hyp.ended = cand.output == end;
        const bool at_limit = static_cast<std::int64_t>(hyp.outputs.size()) >= limits[b];
        if (hyp.ended || at_limit) {
          finished[b].push_back(std::move(hyp));
          continue;
        }
        parents[b * width + static_cast<std::int64_t>(next.size())] = static_cast<std::int32_t>(b * width + cand.parent);
        next.push_back(std::move(hyp));
      }
      // An example is done once it has `width` finished hypotheses (or nothing left to extend).
      if (static_cast<std::int64_t>(finished[b].size()) >= width) next.clear();
      live[b] = std::move(next);
      any_live = any_live || !live[b].empty();
    }
    if (!any_live) break;
    // Every beam row continues from its parent's state.
    std::vector<std::int32_t> state_rows;
    for (std::int64_t l = 0; l < h.dim(0); ++l) {
      for (std::int32_t p : parents) state_rows.push_back(static_cast<std::int32_t>(l * e.rows) + p);
    }
    h = gather_rows(*ops_, h, h.dim(2), state_rows).reshape(h.shape());
    if (c.defined()) c = gather_rows(*ops_, c, c.dim(2), state_rows).reshape(c.shape());
  }

  std::vector<std::vector<std::int32_t>> outputs(static_cast<std::size_t>(e0.rows));
  for (std::int64_t b = 0; b < e0.rows; ++b) {
    std::vector<Hypothesis>& pool = finished[b].empty() ? live[b] : finished[b];
    if (pool.empty()) continue;
    const auto best = std::max_element(pool.begin(), pool.end(), [&](const Hypothesis& x, const Hypothesis& y) {
      return normalised(x) < normalised(y);
    });
    outputs[b] = best->outputs;
  }
  return outputs;
}

std::vector<std::vector<std::int32_t>> decode_source(Seq2SeqModel& model, const BatchSource& source,
                                                     const DecodeOptions& options) {
  std::vector<std::vector<std::int32_t>> all;
  for (std::int64_t i = 0; i < source.batches_per_epoch(); ++i) {
    for (std::vector<std::int32_t>& output : model.decode(source.batch(i), options)) all.push_back(std::move(output));
  }
  return all;
}

}  // namespace gpurnn::train
