// SequenceModel: gradients of the whole model (embedding, RNN, dropout, head, loss) against
// finite differences in f64 for every input and target kind, and the truncated-BPTT state carry
// against one run over the whole sequence.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

#include "gpurnn/train/model.h"
#include "test_support.h"
#include "train/rnn_layer.h"
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

// Issue 32: streaming inference (gpurnn generate, forecast) continues a sequence one step at a time
// through the RNN's single-step call on prepared weights, and gives what one whole-sequence call
// gives; the emitted tokens are the returned ones; inputs of the wrong kind are named.
TEST(ModelSample, ContinuingStepByStepEqualsOneCall) {
  for (const bool tokens : {true, false}) {
    ModelConfig m;
    m.io = tokens ? ModelInterface{InputKind::tokens, 7, TargetKind::step_classes, 7}
                  : ModelInterface{InputKind::features, 1, TargetKind::step_values, 2};
    m.hidden = 6;
    m.layers = 2;
    SequenceModel model(m);
    const std::int32_t ids[] = {1, 4, 0, 6, 2};
    const float values[] = {0.5f, -1.0f, 0.25f, 2.0f, -0.5f};
    const auto inputs = [&](std::int64_t from, std::int64_t to) {
      return tokens ? Tensor::from_host<std::int32_t>({to - from}, ids + from)
                    : Tensor::from_host<float>({to - from, 1}, values + from);
    };
    RecurrentState whole_state;
    const std::vector<double> whole = model.continue_sequence(inputs(0, 5), whole_state);
    RecurrentState state;
    std::vector<double> stepped = model.continue_sequence(inputs(0, 2), state);
    for (std::int64_t t = 2; t < 5; ++t) stepped = model.continue_sequence(inputs(t, t + 1), state);
    ASSERT_EQ(whole.size(), static_cast<std::size_t>(m.io.output_size));
    ASSERT_EQ(stepped.size(), whole.size());
    for (std::size_t k = 0; k < whole.size(); ++k) EXPECT_NEAR(stepped[k], whole[k], 1e-6) << k;
    const std::vector<double> h = to_vector(state.h), whole_h = to_vector(whole_state.h);
    ASSERT_EQ(h.size(), whole_h.size());
    for (std::size_t k = 0; k < h.size(); ++k) EXPECT_NEAR(h[k], whole_h[k], 1e-6) << k;
  }
  ModelConfig m;
  m.io = {InputKind::tokens, 9, TargetKind::step_classes, 9};
  m.hidden = 6;
  SequenceModel model(m);
  std::vector<std::int32_t> emitted;
  EXPECT_EQ(model.sample({1, 2}, 20, 1.0, 5, [&](std::int32_t t) { emitted.push_back(t); }), emitted);
  RecurrentState state;
  const std::int32_t bad[] = {9};
  expect_error([&] { model.continue_sequence(Tensor::from_host<std::int32_t>({1}, bad), state); },
               ErrorCode::invalid_argument, {"'inputs'", "token 9"});
  expect_error([&] { model.continue_sequence(Tensor::zeros({2, 1}, DType::f32), state); },
               ErrorCode::invalid_argument, {"'inputs'", "i32 [T] token ids"});
}

// Issue 30, mixed precision: an RnnLayer computing in bf16 keeps f32 weights and gradients, takes
// and returns f32 tensors, and its gradients are the f32 layer's on the same weights to bf16's
// accuracy; they accumulate, and a forward sees weights the optimizer changed in place.
TEST(MixedPrecision, Bf16RnnLayerGradientsAreTheF32LayersWithinBf16Accuracy) {
  for (const CellKind cell : {CellKind::lstm, CellKind::gru}) {
    SCOPED_TRACE(to_string(cell));
    RNNDescriptor d;
    d.cell = cell;
    d.input_size = 6;
    d.hidden_size = 16;
    d.num_layers = 2;
    const std::int64_t T = 8, B = 4, L = 2;
    train::RnnLayer f32(d, DType::f32, "cpu", 7);
    train::RnnLayer mixed(d, DType::f32, "cpu", 7, 0, DType::bf16);
    EXPECT_TRUE(mixed.mixed_precision());
    EXPECT_EQ(mixed.compute_dtype(), DType::bf16);
    EXPECT_EQ(mixed.weights().dtype(), DType::f32);
    EXPECT_EQ(mixed.grads().dtype(), DType::f32);
    ASSERT_EQ(to_vector(mixed.weights().flat()), to_vector(f32.weights().flat()));
    const bool lstm = cell == CellKind::lstm;
    const Tensor x = random_tensor({T, B, d.input_size}, DType::f32, 5, 1);
    const Tensor h0 = random_tensor({L, B, d.hidden_size}, DType::f32, 5, 2, 0.5);
    const Tensor c0 = lstm ? random_tensor({L, B, d.hidden_size}, DType::f32, 5, 3, 0.5) : Tensor();
    const Tensor dy = random_tensor({T, B, d.hidden_size}, DType::f32, 5, 4);
    const Tensor dhn = random_tensor({L, B, d.hidden_size}, DType::f32, 5, 5);
    const Tensor dcn = lstm ? random_tensor({L, B, d.hidden_size}, DType::f32, 5, 6) : Tensor();
    const auto run = [&](train::RnnLayer& layer) {
      const train::RnnStepOutput out = layer.forward(x, Tensor(), h0, c0, ForwardMode::training, 0, nullptr);
      return std::make_pair(out, layer.backward(dy, dhn, dcn, true, true, nullptr));
    };
    const auto [want, want_g] = run(f32);
    const auto [got, got_g] = run(mixed);
    for (const Tensor* t : {&got.y, &got.hn, &got_g.dx, &got_g.dh0}) EXPECT_EQ(t->dtype(), DType::f32);
    EXPECT_LT(relative_error(got.y, want.y), 2e-2);
    EXPECT_LT(relative_error(got.hn, want.hn), 2e-2);
    EXPECT_GT(relative_error(got.y, want.y), 0) << "the bf16 layer computed in f32";
    EXPECT_LT(relative_error(mixed.grads().flat(), f32.grads().flat()), 2e-2);
    EXPECT_LT(relative_error(got_g.dx, want_g.dx), 2e-2);
    EXPECT_LT(relative_error(got_g.dh0, want_g.dh0), 2e-2);
    if (lstm) {
      EXPECT_EQ(got.cn.dtype(), DType::f32);
      EXPECT_LT(relative_error(got.cn, want.cn), 2e-2);
      EXPECT_LT(relative_error(got_g.dc0, want_g.dc0), 2e-2);
    }
    // GradMode::accumulate: the same step again doubles the gradients (up to f32 sums: the
    // backend adds its products into them).
    std::vector<double> doubled = to_vector(mixed.grads().flat());
    for (double& g : doubled) g *= 2;
    (void)run(mixed);
    EXPECT_LT(relative_error(to_vector(mixed.grads().flat()), doubled), 1e-5);

    // The optimizer changes the f32 weights in place through parameter(): the next forwards (a
    // training one, a whole sequence, and a decoder's step) compute with the new weights.
    const Tensor before = mixed.forward(x, Tensor(), h0, c0, ForwardMode::inference, 0, nullptr).y;
    const Tensor step_before = mixed.step(x.reshape({T * B, d.input_size}), Tensor(), Tensor(), nullptr).y;
    for (train::RnnLayer* layer : {&f32, &mixed}) {
      train::Parameter p = layer->parameter("rnn");
      float* w = p.value.data_as<float>();
      for (std::int64_t k = 0; k < p.value.numel(); ++k) w[k] = 0.5f * w[k] + 0.01f;
    }
    const Tensor after = mixed.forward(x, Tensor(), h0, c0, ForwardMode::inference, 0, nullptr).y;
    EXPECT_NE(to_vector(after), to_vector(before));
    EXPECT_LT(relative_error(after, f32.forward(x, Tensor(), h0, c0, ForwardMode::inference, 0, nullptr).y), 2e-2);
    const Tensor step_after = mixed.step(x.reshape({T * B, d.input_size}), Tensor(), Tensor(), nullptr).y;
    EXPECT_NE(to_vector(step_after), to_vector(step_before));
    EXPECT_LT(relative_error(step_after, f32.step(x.reshape({T * B, d.input_size}), Tensor(), Tensor(), nullptr).y),
              2e-2);
    const train::RnnStepOutput trained = mixed.forward(x, Tensor(), h0, c0, ForwardMode::training, 0, nullptr);
    EXPECT_EQ(to_vector(trained.y), to_vector(after)) << "training and inference forwards round the same weights";
    (void)mixed.backward(dy, dhn, false, nullptr);
  }
}

TEST(MixedPrecision, OnlyHalfComputeOverF32WeightsAndNoF16Training) {
  RNNDescriptor d;
  d.input_size = 3;
  d.hidden_size = 4;
  expect_error([&] { train::RnnLayer x(d, DType::f64, "cpu", 1, 0, DType::bf16); }, ErrorCode::invalid_argument,
               {"'compute'", "bf16 with f64 weights"});
  expect_error([&] { train::RnnLayer x(d, DType::f32, "cpu", 1, 0, DType::f64); }, ErrorCode::invalid_argument,
               {"'compute'"});
  ModelConfig m;
  m.io = {InputKind::features, 3, TargetKind::final_values, 1};
  m.hidden = 4;
  m.rnn_dtype = DType::f16;
  expect_error([&] { SequenceModel x(m); }, ErrorCode::invalid_argument, {"'rnn_dtype'", "loss scaling", "bf16"});
  m.dtype = DType::f64;
  m.rnn_dtype = DType::bf16;
  expect_error([&] { SequenceModel x(m); }, ErrorCode::invalid_argument, {"'rnn_dtype'", "bf16 with dtype f64"});
  m.dtype = DType::f32;
  const SequenceModel model(m);
  EXPECT_EQ(model.dtype(), DType::f32);
  EXPECT_EQ(model.rnn_dtype(), DType::bf16);
  std::map<std::string, std::string> architecture;
  for (const auto& [key, value] : model.architecture()) architecture[key] = value;
  EXPECT_EQ(architecture["dtype"], "f32");
  EXPECT_EQ(architecture["rnn_dtype"], "bf16");
  for (const train::Parameter& p : model.parameters()) EXPECT_EQ(p.value.dtype(), DType::f32) << p.name;
}

}  // namespace
}  // namespace gpurnn::testing
