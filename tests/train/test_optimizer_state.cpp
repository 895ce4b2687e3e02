// Optimizer state: created lazily per parameter name, saved by state_dict and restored by
// load_state_dict so training continues bit for bit; global-norm gradient clipping.

#include <gtest/gtest.h>

#include <cmath>

#include "gpurnn/train/optimizer.h"
#include "train/train_test_support.h"

namespace gpurnn::testing {
namespace {

using train::Parameter;

Parameter parameter(const std::string& name, Shape shape, std::uint64_t stream) {
  return {name, random_tensor(shape, DType::f64, 21, stream), random_tensor(shape, DType::f64, 22, stream)};
}

// A fresh gradient for each step, a function of (step, parameter).
void set_gradients(std::vector<Parameter>& params, int step) {
  for (std::size_t k = 0; k < params.size(); ++k) {
    params[k].grad = random_tensor(params[k].value.shape(), DType::f64, 100 + step, k);
  }
}

std::vector<Parameter> cloned(const std::vector<Parameter>& params) {
  std::vector<Parameter> out;
  for (const Parameter& p : params) out.push_back({p.name, p.value.clone(), p.grad.clone()});
  return out;
}

train::OptimizerConfig config(const std::string& kind) {
  train::OptimizerConfig c;
  c.kind = kind;
  c.momentum = 0.9;
  c.nesterov = true;
  c.weight_decay = 0.01;
  return c;
}

class OptimizerState : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<train::TrainOps> ops = train::make_train_ops(Device::cpu());
};

TEST_P(OptimizerState, StateIsCreatedPerParameterNameOnFirstSight) {
  std::unique_ptr<train::Optimizer> opt = train::make_optimizer(config(GetParam()));
  std::vector<Parameter> params = {parameter("a", {2, 3}, 1)};
  set_gradients(params, 0);
  opt->step(*ops, params, 0.1);
  params.push_back(parameter("b", {4}, 2));  // joins at the second step
  set_gradients(params, 1);
  opt->step(*ops, params, 0.1);
  std::vector<std::string> keys;
  for (const auto& [key, tensor] : opt->state_dict()) keys.push_back(key);
  const std::vector<std::string> want =
      GetParam() == "sgd"
          ? std::vector<std::string>{"a.momentum_buffer", "b.momentum_buffer", "step"}
          : std::vector<std::string>{"a.exp_avg", "a.exp_avg_sq", "b.exp_avg", "b.exp_avg_sq", "step"};
  EXPECT_EQ(keys, want);
  EXPECT_EQ(opt->state_dict().at("step").data_as<std::int64_t>()[0], 2);
  EXPECT_EQ(opt->state_dict().at(GetParam() == "sgd" ? "b.momentum_buffer" : "b.exp_avg").shape(), (Shape{4}));
}

TEST_P(OptimizerState, StateDictRoundTripContinuesIdentically) {
  std::unique_ptr<train::Optimizer> first = train::make_optimizer(config(GetParam()));
  std::vector<Parameter> params = {parameter("rnn", {3, 4}, 1), parameter("out", {5}, 2)};
  for (int step = 0; step < 3; ++step) {
    set_gradients(params, step);
    first->step(*ops, params, 0.05);
  }
  // A checkpoint: deep copies (state_dict hands out the optimizer's own tensors).
  std::map<std::string, Tensor> saved;
  for (const auto& [key, tensor] : first->state_dict()) saved[key] = tensor.clone();
  std::vector<Parameter> resumed = cloned(params);

  std::unique_ptr<train::Optimizer> second = train::make_optimizer(config(GetParam()));
  second->load_state_dict(saved, resumed);
  EXPECT_EQ(second->steps(), 3);
  for (int step = 3; step < 6; ++step) {
    set_gradients(params, step);
    set_gradients(resumed, step);
    first->step(*ops, params, 0.05);
    second->step(*ops, resumed, 0.05);
  }
  for (std::size_t k = 0; k < params.size(); ++k) {
    EXPECT_EQ(values(resumed[k].value), values(params[k].value)) << params[k].name;
  }
  // Without the state, the same steps give other values (so the comparison above can fail).
  std::unique_ptr<train::Optimizer> fresh = train::make_optimizer(config(GetParam()));
  std::vector<Parameter> restarted = cloned(params);
  set_gradients(restarted, 6);
  set_gradients(params, 6);
  fresh->step(*ops, restarted, 0.05);
  first->step(*ops, params, 0.05);
  EXPECT_NE(values(restarted[0].value), values(params[0].value));
}

INSTANTIATE_TEST_SUITE_P(Kinds, OptimizerState, ::testing::Values("sgd", "adam", "adamw"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

TEST(ClipGradNorm, ReturnsTheNormAndScalesOnlyAboveTheLimit) {
  std::unique_ptr<train::TrainOps> ops = train::make_train_ops(Device::cpu());
  std::vector<Parameter> params = {parameter("a", {3, 2}, 1), parameter("b", {4}, 2)};
  double sum = 0.0;
  for (const Parameter& p : params) {
    for (double v : values(p.grad)) sum += v * v;
  }
  const double norm = std::sqrt(sum);
  const std::vector<double> a = values(params[0].grad), b = values(params[1].grad);

  EXPECT_NEAR(train::clip_grad_norm(*ops, params, norm * 1.5), norm, 1e-15 * norm);
  EXPECT_EQ(values(params[0].grad), a);  // below the limit: untouched
  EXPECT_NEAR(train::clip_grad_norm(*ops, params, 0.0), norm, 1e-15 * norm);  // norm only
  EXPECT_EQ(values(params[1].grad), b);

  const double limit = norm / 4;
  EXPECT_NEAR(train::clip_grad_norm(*ops, params, limit), norm, 1e-15 * norm);
  std::vector<double> want_a, want_b;
  for (double v : a) want_a.push_back(v / 4);
  for (double v : b) want_b.push_back(v / 4);
  EXPECT_LT(relative_error(values(params[0].grad), want_a), 1e-15);
  EXPECT_LT(relative_error(values(params[1].grad), want_b), 1e-15);
  EXPECT_NEAR(train::clip_grad_norm(*ops, params, 0.0), limit, 1e-14 * limit);
}

}  // namespace
}  // namespace gpurnn::testing
