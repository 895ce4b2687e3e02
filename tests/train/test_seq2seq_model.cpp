// Seq2SeqModel: finite-difference gradients in f64 of the whole model (every output kind,
// attention score, cell, a bidirectional encoder, ragged lengths, ignored outputs, exclusive
// pointers), decoding against the teacher-forced forward, beam search against greedy and against
// exhaustive search, scheduled sampling, and bad arguments.

#include <gtest/gtest.h>

#include <limits>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "gpurnn/train/seq2seq.h"
#include "train/train_test_support.h"

namespace gpurnn::testing {
namespace {

using train::Batch;
using train::DecodeMethod;
using train::DecodeOptions;
using train::Seq2SeqConfig;
using train::Seq2SeqModel;
using train::TargetKind;
constexpr std::int32_t kIgnore = train::kIgnoreTarget;

Tensor i32_tensor(Shape shape, const std::vector<std::int32_t>& v) {
  return Tensor::from_host<std::int32_t>(std::move(shape), v.data());
}

// A token-to-token batch: S = 4, B = 3 (lengths 4, 2, 3), U = 3 with ragged outputs.
Batch token_batch() {
  Batch b;
  b.inputs = i32_tensor({4, 3}, {1, 4, 2, 3, 0, 5, 6, 0, 1, 2, 0, 0});
  b.lengths = i32_tensor({3}, {4, 2, 3});
  b.targets = i32_tensor({3, 3}, {2, 1, 3, 0, 4, 0, 3, kIgnore, kIgnore});
  return b;
}

// A pointer batch of features: S = 4, B = 3 (lengths 4, 3, 4), F = 2; targets are positions.
Batch pointer_batch(bool end_marker) {
  Batch b;
  b.inputs = random_tensor({4, 3, 2}, DType::f32, 7, 1);
  b.lengths = i32_tensor({3}, {4, 3, 4});
  if (end_marker) {  // position 0 ends: ragged outputs
    b.targets = i32_tensor({4, 3}, {2, 1, 3, 3, 0, 1, 0, kIgnore, 2, kIgnore, kIgnore, 0});
  } else {
    b.targets = i32_tensor({4, 3}, {0, 2, 3, 3, 0, 1, 1, 1, 0, 2, kIgnore, 2});
  }
  return b;
}

Seq2SeqConfig token_config() {
  Seq2SeqConfig c;
  c.io.input = train::InputKind::tokens;
  c.io.input_size = 7;
  c.io.target = TargetKind::output_tokens;
  c.io.output_size = 5;
  c.io.end_output = 0;
  c.hidden = 6;
  c.embedding = 3;
  c.dtype = DType::f64;
  return c;
}

Seq2SeqConfig pointer_config(bool end_marker) {
  Seq2SeqConfig c;
  c.io.input = train::InputKind::features;
  c.io.input_size = 2;
  c.io.target = TargetKind::pointers;
  c.io.exclusive_pointers = true;
  c.io.end_output = end_marker ? 0 : -1;
  c.hidden = 6;
  c.attention = train::AttentionScore::additive;
  c.attention_size = 5;
  c.dtype = DType::f64;
  return c;
}

// Mean loss of the batch (teacher forced, inference).
double mean_loss(Seq2SeqModel& model, const Batch& batch) {
  train::RecurrentState none;
  const train::BatchSums s = model.eval_step(batch, none);
  return s.loss / static_cast<double>(s.count);
}

// Every parameter's gradient from train_step against central differences of the mean loss.
void expect_gradients_match(Seq2SeqModel& model, const Batch& batch, const std::string& label) {
  train::RecurrentState none;
  model.zero_grad();
  const train::BatchSums sums = model.train_step(batch, none, train::StepContext{});
  ASSERT_GT(sums.count, 0) << label;
  EXPECT_NEAR(sums.loss / static_cast<double>(sums.count), mean_loss(model, batch), 1e-12) << label;
  for (const train::Parameter& p : model.parameters()) {
    // Every element for small tensors, a spread of 40 for the larger ones.
    const std::int64_t stride = std::max<std::int64_t>(1, p.value.numel() / 40);
    const std::vector<double> numeric = numeric_gradient(p.value, [&] { return mean_loss(model, batch); }, stride);
    const std::vector<double> analytic = strided_elements(p.grad, stride);
    // Relative to the largest gradient, but not below 1e-4: central differences of a loss near 1
    // carry ~1e-10 of rounding, which is all the difference left for the attention weights'
    // gradients of ~1e-6 (a wrong gradient is off by its own size).
    double largest = 1e-4, worst = 0.0;
    for (std::size_t i = 0; i < numeric.size(); ++i) {
      largest = std::max(largest, std::abs(numeric[i]));
      worst = std::max(worst, std::abs(analytic[i] - numeric[i]));
    }
    EXPECT_LT(worst / largest, 1e-5) << label << " " << p.name;
  }
}

TEST(Seq2SeqGradCheck, TokenOutputsEveryScoreAndCell) {
  for (const auto score : {train::AttentionScore::dot, train::AttentionScore::general, train::AttentionScore::additive}) {
    for (const CellKind cell : {CellKind::lstm, CellKind::gru, CellKind::rnn_tanh}) {
      Seq2SeqConfig c = token_config();
      c.attention = score;
      c.cell = cell;
      Seq2SeqModel model(c);
      expect_gradients_match(model, token_batch(), std::string(train::to_string(score)) + "/" + to_string(cell));
    }
  }
}

TEST(Seq2SeqGradCheck, BidirectionalTwoLayerEncoder) {
  for (const CellKind cell : {CellKind::lstm, CellKind::gru}) {
    Seq2SeqConfig c = token_config();
    c.bidirectional = true;
    c.layers = 2;
    c.cell = cell;
    Seq2SeqModel model(c);
    expect_gradients_match(model, token_batch(), std::string("bidirectional ") + to_string(cell));
  }
}

TEST(Seq2SeqGradCheck, PointersFixedLengthAndWithEndMarker) {
  for (bool end_marker : {false, true}) {
    for (const auto score : {train::AttentionScore::additive, train::AttentionScore::general}) {
      Seq2SeqConfig c = pointer_config(end_marker);
      c.attention = score;
      Seq2SeqModel model(c);
      expect_gradients_match(model, pointer_batch(end_marker),
                             std::string(end_marker ? "end marker " : "fixed ") + train::to_string(score));
    }
  }
}

TEST(Seq2SeqGradCheck, BidirectionalPointerNetwork) {
  Seq2SeqConfig c = pointer_config(true);
  c.bidirectional = true;
  Seq2SeqModel model(c);
  expect_gradients_match(model, pointer_batch(true), "bidirectional pointer");
}

// What a row's decoded output scores: log p(output | input) from the teacher-forced forward.
double log_probability(Seq2SeqModel& model, const Batch& batch, std::int64_t row, const std::vector<std::int32_t>& output) {
  Batch one;
  const std::int64_t steps = batch.inputs.dim(0);
  const std::int32_t len = batch.lengths.data_as<std::int32_t>()[row];
  if (batch.inputs.rank() == 2) {
    std::vector<std::int32_t> ids;
    for (std::int64_t s = 0; s < steps; ++s) ids.push_back(batch.inputs.data_as<std::int32_t>()[s * batch.rows() + row]);
    one.inputs = i32_tensor({steps, 1}, ids);
  } else {
    const std::int64_t f = batch.inputs.dim(2);
    one.inputs = Tensor::empty({steps, 1, f}, batch.inputs.dtype());
    for (std::int64_t s = 0; s < steps; ++s) {
      for (std::int64_t k = 0; k < f; ++k) {
        one.inputs.data_as<float>()[s * f + k] = batch.inputs.data_as<float>()[(s * batch.rows() + row) * f + k];
      }
    }
  }
  one.lengths = i32_tensor({1}, {len});
  one.targets = i32_tensor({static_cast<std::int64_t>(output.size()), 1}, output);
  train::RecurrentState none;
  return -model.eval_step(one, none).loss;
}

TEST(Seq2SeqDecode, GreedyStepsEqualTheWholeSequenceForward) {
  // Each greedy output, re-read teacher-forced as the reference, is the argmax at every step:
  // the one-step decoder and the whole-sequence pass compute the same thing.
  for (bool pointers : {false, true}) {
    Seq2SeqConfig c = pointers ? pointer_config(true) : token_config();
    c.hidden = 16;
    Seq2SeqModel model(c);
    const Batch batch = pointers ? pointer_batch(true) : token_batch();
    DecodeOptions options;
    options.max_length = 6;
    const auto outputs = model.decode(batch, options);
    ASSERT_EQ(outputs.size(), 3u);
    for (std::int64_t r = 0; r < 3; ++r) {
      ASSERT_FALSE(outputs[r].empty());
      Batch again = batch;
      const auto u = static_cast<std::int64_t>(outputs[r].size());
      std::vector<std::int32_t> t(static_cast<std::size_t>(u * 3), kIgnore);
      for (std::int64_t i = 0; i < u; ++i) t[i * 3 + r] = outputs[r][i];
      again.targets = i32_tensor({u, 3}, t);
      train::RecurrentState none;
      const train::BatchSums s = model.eval_step(again, none);
      EXPECT_EQ(s.correct, u) << (pointers ? "pointers" : "tokens") << " row " << r;
    }
  }
}

TEST(Seq2SeqDecode, BeamOfWidthOneEqualsGreedy) {
  for (bool pointers : {false, true}) {
    Seq2SeqConfig c = pointers ? pointer_config(true) : token_config();
    c.hidden = 16;
    Seq2SeqModel model(c);
    const Batch batch = pointers ? pointer_batch(true) : token_batch();
    DecodeOptions greedy, beam;
    greedy.method = DecodeMethod::greedy;
    beam.method = DecodeMethod::beam;
    beam.beam = 1;
    EXPECT_EQ(model.decode(batch, greedy), model.decode(batch, beam)) << (pointers ? "pointers" : "tokens");
  }
}

TEST(Seq2SeqDecode, WideBeamFindsTheMostLikelyPermutation) {
  // Fixed-length exclusive pointers over 3 positions: 6 outputs in all, and a beam of 6 keeps
  // every prefix, so beam search must return the most likely of the 6 (checked one by one).
  Seq2SeqConfig c = pointer_config(false);
  c.hidden = 12;
  c.seed = 5;
  Seq2SeqModel model(c);
  Batch batch;
  batch.inputs = random_tensor({3, 2, 2}, DType::f32, 11, 3);
  batch.lengths = i32_tensor({2}, {3, 3});
  DecodeOptions options;
  options.beam = 6;
  const auto outputs = model.decode(batch, options);
  DecodeOptions greedy;
  const auto greedy_outputs = model.decode(batch, greedy);
  for (std::int64_t r = 0; r < 2; ++r) {
    std::vector<std::int32_t> perm = {0, 1, 2}, best;
    double best_logp = -1e300;
    do {
      const double lp = log_probability(model, batch, r, perm);
      if (lp > best_logp) best_logp = lp, best = perm;
    } while (std::next_permutation(perm.begin(), perm.end()));
    EXPECT_EQ(outputs[r], best) << "row " << r;
    EXPECT_GE(log_probability(model, batch, r, outputs[r]), log_probability(model, batch, r, greedy_outputs[r]) - 1e-12);
  }
}

TEST(Seq2SeqDecode, ExclusivePointersNeverRepeatAndEndAtTheMarker) {
  Seq2SeqConfig c = pointer_config(true);
  c.hidden = 8;
  Seq2SeqModel model(c);
  for (std::int64_t width : {1, 3}) {
    DecodeOptions options;
    options.beam = width;
    const auto outputs = model.decode(pointer_batch(true), options);
    for (std::size_t r = 0; r < outputs.size(); ++r) {
      std::vector<std::int32_t> seen = outputs[r];
      const bool ended = !seen.empty() && seen.back() == 0;
      if (ended) seen.pop_back();
      std::sort(seen.begin(), seen.end());
      EXPECT_TRUE(std::adjacent_find(seen.begin(), seen.end()) == seen.end()) << "width " << width << " row " << r;
      EXPECT_TRUE(std::find(seen.begin(), seen.end(), 0) == seen.end());  // the end only last
      // At most every non-marker position once, then the marker.
      EXPECT_LE(outputs[r].size(), static_cast<std::size_t>(pointer_batch(true).lengths.data_as<std::int32_t>()[r]));
    }
  }
}

// NaN scores (here from NaN weights: a tampered or diverged model) never let an excluded position
// win: exclusive pointers still never repeat, greedy and beam (issue 34: `tour: 0 0 0 0 0`).
TEST(Seq2SeqDecode, ExclusivePointersNeverRepeatEvenWithNanScores) {
  for (bool end_marker : {false, true}) {
    Seq2SeqModel model(pointer_config(end_marker));
    for (auto p : model.parameters()) p.value.fill(std::numeric_limits<double>::quiet_NaN());  // shares storage
    for (std::int64_t width : {1, 3}) {
      DecodeOptions options;
      options.beam = width;
      const auto outputs = model.decode(pointer_batch(end_marker), options);
      for (std::size_t r = 0; r < outputs.size(); ++r) {
        std::vector<std::int32_t> seen = outputs[r];
        if (end_marker && !seen.empty() && seen.back() == 0) seen.pop_back();
        std::sort(seen.begin(), seen.end());
        EXPECT_TRUE(std::adjacent_find(seen.begin(), seen.end()) == seen.end())
            << "end marker " << end_marker << ", width " << width << ", row " << r;
      }
    }
  }
}

TEST(Seq2SeqTraining, ScheduledSamplingChangesTheInputsNotTheTargets) {
  Seq2SeqConfig c = token_config();
  c.teacher_forcing = 0.0;
  c.teacher_forcing_final = 0.0;
  Seq2SeqModel sampled(c);
  c.teacher_forcing = c.teacher_forcing_final = 1.0;
  Seq2SeqModel forced(c);
  train::RecurrentState none;
  train::StepContext context;
  context.dropout_seed = 3;
  const train::BatchSums a = sampled.train_step(token_batch(), none, context);
  const train::BatchSums b = forced.train_step(token_batch(), none, context);
  EXPECT_EQ(a.count, b.count);
  EXPECT_TRUE(std::isfinite(a.loss));
  EXPECT_NE(a.loss, b.loss);  // the same weights (same seed), other decoder inputs
  EXPECT_DOUBLE_EQ(sampled.teacher_forcing_at(0, 10), 0.0);
  c.teacher_forcing = 1.0;
  c.teacher_forcing_final = 0.5;
  Seq2SeqModel scheduled(c);
  EXPECT_DOUBLE_EQ(scheduled.teacher_forcing_at(0, 11), 1.0);
  EXPECT_DOUBLE_EQ(scheduled.teacher_forcing_at(5, 11), 0.75);
  EXPECT_DOUBLE_EQ(scheduled.teacher_forcing_at(10, 11), 0.5);
}

TEST(Seq2SeqInvalidArgs, ConfigAndBatch) {
  {
    Seq2SeqConfig c = token_config();
    c.bidirectional = true;
    c.hidden = 7;
    expect_error([&] { Seq2SeqModel m(c); }, ErrorCode::invalid_argument, {"hidden"});
  }
  {
    Seq2SeqConfig c = token_config();
    c.io.target = TargetKind::step_classes;
    expect_error([&] { Seq2SeqModel m(c); }, ErrorCode::invalid_argument, {"io.target"});
  }
  {
    Seq2SeqConfig c = token_config();
    c.threads = -2;
    expect_error([&] { Seq2SeqModel m(c); }, ErrorCode::invalid_argument, {"'threads'", "-2"});
  }
  {
    Seq2SeqConfig c = token_config();
    c.teacher_forcing = 1.5;
    expect_error([&] { Seq2SeqModel m(c); }, ErrorCode::invalid_argument, {"teacher_forcing"});
  }
  {
    Seq2SeqConfig c = pointer_config(false);
    c.io.input = train::InputKind::tokens;
    expect_error([&] { Seq2SeqModel m(c); }, ErrorCode::invalid_argument, {"io.input"});
  }
  Seq2SeqModel pointer(pointer_config(false));
  train::RecurrentState none;
  Batch beyond = pointer_batch(false);
  beyond.targets.data_as<std::int32_t>()[1] = 3;  // row 1 has 3 positions
  expect_error([&] { pointer.train_step(beyond, none, {}); }, ErrorCode::invalid_argument, {"batch.targets[0, 1]"});
  Batch twice = pointer_batch(false);
  twice.targets.data_as<std::int32_t>()[3] = 0;  // row 0 points at 0 twice
  expect_error([&] { pointer.train_step(twice, none, {}); }, ErrorCode::invalid_argument, {"twice"});
  Seq2SeqModel tokens(token_config());
  Batch big = token_batch();
  big.targets.data_as<std::int32_t>()[0] = 5;
  expect_error([&] { tokens.eval_step(big, none); }, ErrorCode::invalid_argument, {"batch.targets[0, 0]"});
  DecodeOptions zero;
  zero.beam = 0;
  expect_error([&] { tokens.decode(token_batch(), zero); }, ErrorCode::invalid_argument, {"options.beam"});
}

TEST(Seq2SeqInvalidArgs, PublicHelpers) {
  using train::Attention;
  using train::AttentionScore;
  expect_error([] { Attention a(AttentionScore::dot, 4, 5, 0, DType::f64, Device::cpu(), 1); },
               ErrorCode::invalid_argument, {"Attention", "query_size", "memory_size"});
  expect_error([] { Attention a(AttentionScore::additive, 4, 4, 0, DType::f64, Device::cpu(), 1); },
               ErrorCode::invalid_argument, {"Attention", "attention_size"});
  expect_error([] { Attention a(AttentionScore::general, 0, 4, 0, DType::f64, Device::cpu(), 1); },
               ErrorCode::invalid_argument, {"Attention", "query_size"});
  const Attention general(AttentionScore::general, 4, 4, 0, DType::f64, Device::cpu(), 1);
  const auto ops = train::make_train_ops(Device::cpu());
  expect_error([&] { general.prepare(*ops, Tensor::zeros({3, 4}, DType::f64), Tensor()); },
               ErrorCode::invalid_argument, {"Attention::prepare", "values"});
  expect_error([] { train::parse_attention_score("cosine", "--attention"); }, ErrorCode::invalid_argument,
               {"--attention", "cosine", "additive"});
  expect_error([] { train::parse_target_kind("pointer", "target"); }, ErrorCode::invalid_argument,
               {"target", "pointer", "pointers"});
  expect_error([] { train::parse_input_kind("words", "input"); }, ErrorCode::invalid_argument, {"input", "words"});
  expect_error([] { train::uniform_parameter({3}, 1.0, DType::i32, Device::cpu(), 1); }, ErrorCode::invalid_argument,
               {"uniform_parameter", "dtype"});
  // A checkpoint's metadata: every entry of a real model's round-trips; a missing or malformed one
  // is an io_error naming it.
  Seq2SeqModel model(pointer_config(true));
  std::map<std::string, std::string> metadata;
  for (const auto& [k, v] : model.architecture()) metadata[k] = v;
  for (const auto& [k, v] : model.settings()) metadata[k] = v;
  const Seq2SeqConfig back = train::seq2seq_config_from_metadata(metadata, "m.safetensors");
  EXPECT_EQ(back.io.target, TargetKind::pointers);
  EXPECT_EQ(back.io.end_output, 0);
  EXPECT_TRUE(back.io.exclusive_pointers);
  EXPECT_EQ(back.attention_size, 5);
  std::map<std::string, std::string> missing = metadata;
  missing.erase("cell");
  expect_error([&] { train::seq2seq_config_from_metadata(missing, "m.safetensors"); }, ErrorCode::io_error,
               {"m.safetensors", "'cell'"});
  std::map<std::string, std::string> malformed = metadata;
  malformed["hidden"] = "wide";
  expect_error([&] { train::seq2seq_config_from_metadata(malformed, "m.safetensors"); }, ErrorCode::io_error,
               {"'hidden'", "wide"});
}

}  // namespace
}  // namespace gpurnn::testing
