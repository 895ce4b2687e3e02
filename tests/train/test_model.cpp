// SequenceModel: gradients of the whole model (embedding, RNN, dropout, head, loss) against
// finite differences in f64 for every input and target kind, and the truncated-BPTT state carry
// against one run over the whole sequence.
#include <gtest/gtest.h>

#include <cmath>

#include "gpurnn/train/model.h"
#include "test_support.h"
#include "train/synthetic_task.h"

namespace gpurnn::testing {
namespace {

using train::Batch;
using train::BatchSums;
using train::InputKind;
using train::ModelConfig;
using train::ModelInterface;
using train::RecurrentState;
using train::SequenceModel;
using train::TargetKind;

struct ModelCase {
  const char* name;
  ModelInterface io;
  CellKind cell;
  std::int64_t layers;
  double dropout;
};

const ModelCase kCases[] = {
    {"tokens_step_classes_lstm_2layers_dropout", {InputKind::tokens, 7, TargetKind::step_classes, 7}, CellKind::lstm, 2, 0.3},
    {"features_step_values_gru", {InputKind::features, 3, TargetKind::step_values, 2}, CellKind::gru, 1, 0.0},
    {"features_final_classes_tanh_2layers", {InputKind::features, 3, TargetKind::final_classes, 4}, CellKind::rnn_tanh, 2, 0.0},
    {"features_final_values_lstm_dropout", {InputKind::features, 2, TargetKind::final_values, 1}, CellKind::lstm, 1, 0.25},
    {"tokens_final_classes_gru_2layers", {InputKind::tokens, 5, TargetKind::final_classes, 3}, CellKind::gru, 2, 0.0},
};

class ModelGradients : public ::testing::TestWithParam<ModelCase> {};

ModelConfig config_of(const ModelCase& c, DType dtype) {
  ModelConfig m;
  m.io = c.io;
  m.cell = c.cell;
  m.hidden = 5;
  m.layers = c.layers;
  m.embedding = 4;
  m.dropout = c.dropout;
  m.dtype = dtype;
  m.seed = 11;
  return m;
}

double mean_loss(const BatchSums& s) { return s.loss / static_cast<double>(s.count); }

TEST_P(ModelGradients, MatchFiniteDifferencesInF64) {
  const ModelCase& c = GetParam();
  SequenceModel model(config_of(c, DType::f64));
  // Rows 0 and 2 continue a carried state, row 1 starts fresh: the mixed carry path.
  RecurrentState carried;
  {
    RecurrentState s;
    model.eval_step(random_batch(c.io, 3, 3, 5), s);
    carried = s;
  }
  const Batch batch = random_batch(c.io, 4, 3, 6, {1, 0, 1});
  constexpr std::uint64_t kDropoutSeed = 77;
  auto loss_now = [&] {
    RecurrentState s = carried;
    model.zero_grad();
    return mean_loss(model.train_step(batch, s, kDropoutSeed));
  };
  loss_now();  // gradients of the unperturbed model
  const std::vector<train::Parameter> params = model.parameters();
  std::vector<Tensor> analytic;
  for (const train::Parameter& p : params) analytic.push_back(p.grad.clone());

  for (std::size_t k = 0; k < params.size(); ++k) {
    const std::int64_t stride = std::max<std::int64_t>(1, params[k].value.numel() / 23);
    const std::vector<double> numeric = numeric_gradient(params[k].value, loss_now, stride);
    EXPECT_LT(relative_error(strided_elements(analytic[k], stride), numeric), 1e-6)
        << c.name << ": parameter " << params[k].name;
  }
}

INSTANTIATE_TEST_SUITE_P(Train, ModelGradients, ::testing::ValuesIn(kCases),
                         [](const auto& p) { return std::string(p.param.name); });

// Two chunks with the state carried equal one pass over the concatenated sequence.
TEST(ModelState, CarriedChunksEqualOnePass) {
  const ModelInterface io{InputKind::tokens, 6, TargetKind::step_classes, 6};
  ModelConfig m;
  m.io = io;
  m.hidden = 8;
  m.layers = 2;
  m.dtype = DType::f64;
  SequenceModel model(m);
  Batch whole = random_batch(io, 6, 2, 3);
  whole.lengths.fill(6);
  for (std::int64_t i = 0; i < whole.targets.numel(); ++i) {
    if (whole.targets.data_as<std::int32_t>()[i] < 0) whole.targets.data_as<std::int32_t>()[i] = 1;
  }
  // The same data split at step 2.
  auto slice = [&](const Tensor& t, std::int64_t from, std::int64_t to) {
    Tensor out = Tensor::empty({to - from, t.dim(1)}, t.dtype());
    std::copy(t.data_as<std::int32_t>() + from * t.dim(1), t.data_as<std::int32_t>() + to * t.dim(1),
              out.data_as<std::int32_t>());
    return out;
  };
  Batch first, second;
  first.inputs = slice(whole.inputs, 0, 2);
  first.targets = slice(whole.targets, 0, 2);
  second.inputs = slice(whole.inputs, 2, 6);
  second.targets = slice(whole.targets, 2, 6);
  const std::int32_t two[] = {2, 2}, four[] = {4, 4};
  first.lengths = Tensor::from_host<std::int32_t>({2}, two);
  second.lengths = Tensor::from_host<std::int32_t>({2}, four);
  second.carry_state = {1, 1};

  RecurrentState s;
  const BatchSums all = model.eval_step(whole, s);
  RecurrentState chunks;
  const BatchSums a = model.eval_step(first, chunks);
  const BatchSums b = model.eval_step(second, chunks);
  EXPECT_EQ(a.count + b.count, all.count);
  EXPECT_NEAR(a.loss + b.loss, all.loss, 1e-10 * std::abs(all.loss));
  EXPECT_EQ(a.correct + b.correct, all.correct);
  EXPECT_LT(relative_error(chunks.h, s.h), 1e-12);
  EXPECT_LT(relative_error(chunks.c, s.c), 1e-12);

  // Without carrying, the second chunk starts from zeros and its loss differs.
  RecurrentState fresh_state = chunks;
  second.carry_state = {0, 0};
  const BatchSums fresh = model.eval_step(second, fresh_state);
  EXPECT_GT(std::abs(fresh.loss - b.loss), 1e-9);
  // Mixed: row 0 carries, row 1 starts fresh -- row 1's state equals the all-fresh run's row 1.
  RecurrentState mixed_state = chunks;
  RecurrentState before = chunks;
  model.eval_step(first, before);  // recompute the state after the first chunk
  mixed_state = before;
  second.carry_state = {1, 0};
  model.eval_step(second, mixed_state);
  const std::int64_t H = 8;
  for (std::int64_t l = 0; l < 2; ++l) {
    for (std::int64_t j = 0; j < H; ++j) {
      EXPECT_EQ(mixed_state.h.data_as<double>()[(l * 2 + 1) * H + j], fresh_state.h.data_as<double>()[(l * 2 + 1) * H + j]);
      EXPECT_NEAR(mixed_state.h.data_as<double>()[(l * 2 + 0) * H + j], s.h.data_as<double>()[(l * 2 + 0) * H + j], 1e-12);
    }
  }
}

TEST(ModelErrors, BadConfigurationNamesTheField) {
  ModelConfig m;
  m.io = {InputKind::features, 3, TargetKind::final_values, 1};
  m.hidden = 0;
  expect_error([&] { SequenceModel x(m); }, ErrorCode::invalid_argument, {"'hidden'"});
  m.hidden = 4;
  m.io.output_size = 0;
  expect_error([&] { SequenceModel x(m); }, ErrorCode::invalid_argument, {"'io.output_size'"});
  m.io.output_size = 1;
  m.dropout = 1.0;
  expect_error([&] { SequenceModel x(m); }, ErrorCode::invalid_argument, {"dropout"});
  m.dropout = 0;
  m.threads = -1;
  expect_error([&] { SequenceModel x(m); }, ErrorCode::invalid_argument, {"'threads'", "-1"});
  m.threads = 0;
  m.backend = "nope";
  expect_error([&] { SequenceModel x(m); }, ErrorCode::unsupported, {"'nope'"});
}

TEST(ModelErrors, BatchOfTheWrongKindIsRefused) {
  ModelConfig m;
  m.io = {InputKind::features, 3, TargetKind::final_values, 1};
  m.hidden = 4;
  SequenceModel model(m);
  RecurrentState s;
  const Batch tokens = random_batch({InputKind::tokens, 3, TargetKind::final_values, 1}, 2, 2, 1);
  expect_error([&] { model.eval_step(tokens, s); }, ErrorCode::invalid_argument, {"'batch.inputs'", "[T, B, 3]"});
  const Batch wide = random_batch({InputKind::features, 5, TargetKind::final_values, 1}, 2, 2, 1);
  expect_error([&] { model.train_step(wide, s, 0); }, ErrorCode::invalid_argument, {"'batch.inputs'"});
}

TEST(ModelSample, IsReproducibleAndChecksArguments) {
  ModelConfig m;
  m.io = {InputKind::tokens, 9, TargetKind::step_classes, 9};
  m.hidden = 6;
  SequenceModel model(m);
  const auto a = model.sample({1, 2}, 20, 1.0, 5);
  const auto b = model.sample({1, 2}, 20, 1.0, 5);
  ASSERT_EQ(a.size(), 20u);
  EXPECT_EQ(a, b);
  for (std::int32_t t : a) EXPECT_TRUE(t >= 0 && t < 9);
  EXPECT_NE(a, model.sample({1, 2}, 20, 1.0, 6));
  expect_error([&] { model.sample({}, 3, 1.0, 1); }, ErrorCode::invalid_argument, {"'prompt'"});
  expect_error([&] { model.sample({9}, 3, 1.0, 1); }, ErrorCode::invalid_argument, {"'prompt'", "token 9"});
  expect_error([&] { model.sample({1}, 3, 0.0, 1); }, ErrorCode::invalid_argument, {"'temperature'"});
}

}  // namespace
}  // namespace gpurnn::testing
