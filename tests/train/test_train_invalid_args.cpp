// Bad arguments to the training ops, layers, optimizers and schedules: each a gpurnn::Error whose
// message names the call and the argument.

#include <gtest/gtest.h>

#include <cmath>

#include "gpurnn/train/optimizer.h"
#include "train/train_test_support.h"

namespace gpurnn::testing {
namespace {

using train::Parameter;
constexpr ErrorCode kInvalid = ErrorCode::invalid_argument;

class TrainInvalidArgs : public ::testing::Test {
 protected:
  Tensor f32(Shape shape) const { return random_tensor(shape, DType::f32, 3, 1); }
  Tensor f64(Shape shape) const { return random_tensor(shape, DType::f64, 3, 1); }
  std::unique_ptr<train::TrainOps> ops = train::make_train_ops(Device::cpu());
};

TEST_F(TrainInvalidArgs, LinearOpsNameTheArgument) {
  const Tensor x = f32({4, 5}), w = f32({3, 5}), b = f32({3});
  Tensor y = f32({4, 3});
  expect_error([&] { ops->linear_forward(x, f32({3, 6}), b, y); }, kInvalid,
               {"TrainOps::linear_forward", "'w'", "[3, 6]", "[out, in]"});
  expect_error([&] { ops->linear_forward(x, f64({3, 5}), b, y); }, kInvalid, {"'w'", "f64", "expected"});
  expect_error([&] { ops->linear_forward(x, w, f32({4}), y); }, kInvalid, {"'b'", "[out]"});
  Tensor wrong_y = f32({4, 2});
  expect_error([&] { ops->linear_forward(x, w, b, wrong_y); }, kInvalid, {"'y'", "[4, 2]"});
  expect_error([&] { ops->linear_forward(x, w, b, TensorView()); }, kInvalid, {"'y'", "required"});
  expect_error([&] { ops->linear_forward(f32({4, 5, 1}), w, b, y); }, kInvalid, {"'x'", "[N, in]"});
  const Tensor xi = Tensor::zeros({4, 5}, DType::i32);
  expect_error([&] { ops->linear_forward(xi, w, b, y); }, kInvalid, {"'x'", "f32 or f64"});
  // A written argument may not alias a read one.
  Tensor square = f32({5, 5});
  expect_error([&] { ops->linear_forward(square, f32({5, 5}), ConstTensorView(), square); }, kInvalid,
               {"'y'", "overlaps", "'x'"});
  // A tensor of another device.
  const ConstTensorView on_gpu(x.data(), x.shape(), DType::f32, Device::cuda(0));
  expect_error([&] { ops->linear_forward(on_gpu, w, b, y); }, kInvalid, {"'x'", "cuda:0", "cpu"});

  Tensor dw = f32({3, 5}), dx = f32({4, 5});
  expect_error([&] { ops->linear_backward(x, w, f32({4, 2}), dx, dw, TensorView(), false); }, kInvalid,
               {"TrainOps::linear_backward", "'dy'"});
  expect_error([&] { ops->linear_backward(x, w, f32({4, 3}), dx, TensorView(), TensorView(), false); },
               kInvalid, {"'dw'", "required"});
  Tensor wrong_dx = f32({5, 4});
  expect_error([&] { ops->linear_backward(x, w, f32({4, 3}), wrong_dx, dw, TensorView(), false); }, kInvalid,
               {"'dx'"});
}

TEST_F(TrainInvalidArgs, IndexAndLossOpsNameTheArgument) {
  const Tensor table = f32({6, 4});
  Tensor y = f32({3, 4});
  expect_error([&] { ops->embedding_forward(table, f32({3}), y); }, kInvalid,
               {"TrainOps::embedding_forward", "'ids'", "i32"});
  expect_error([&] { ops->embedding_forward(table, ids_tensor({0, 6, 1}), y); }, kInvalid,
               {"'ids'", "ids[1] = 6", "[0, 6)"});
  expect_error([&] { ops->embedding_forward(table, ids_tensor({0, -1, 1}), y); }, kInvalid, {"ids[1] = -1"});
  Tensor dtable = f32({6, 4});
  expect_error([&] { ops->embedding_backward(ids_tensor({0, 1}), f32({3, 4}), dtable, true); }, kInvalid,
               {"TrainOps::embedding_backward", "'dy'"});
  expect_error([&] { ops->embedding_backward(ids_tensor({0, 9}), f32({2, 4}), dtable, true); }, kInvalid,
               {"'ids'", "ids[1] = 9"});

  const Tensor logits = f32({3, 5});
  Tensor dl = f32({3, 5});
  expect_error([&] { ops->softmax_cross_entropy(logits, ids_tensor({0, 5, 1}), -100, 1.0, dl); }, kInvalid,
               {"TrainOps::softmax_cross_entropy", "'targets'", "targets[1] = 5", "ignore_index -100"});
  expect_error([&] { ops->softmax_cross_entropy(logits, ids_tensor({0, 1}), -100, 1.0, dl); }, kInvalid,
               {"'targets'", "[N]"});
  Tensor wrong_dl = f64({3, 5});
  expect_error([&] { ops->softmax_cross_entropy(logits, ids_tensor({0, 1, 2}), -1, 1.0, wrong_dl); },
               kInvalid, {"'dlogits'", "f64"});
  expect_error([&] { ops->softmax_cross_entropy(logits, ids_tensor({0, 1, 2}), -1, NAN, dl); }, kInvalid,
               {"'grad_scale'"});

  const Tensor pred = f32({4, 2});
  Tensor dpred = f32({4, 2});
  expect_error([&] { ops->mean_squared_error(pred, f32({4, 3}), ConstTensorView(), 1.0, dpred); }, kInvalid,
               {"TrainOps::mean_squared_error", "'target'", "like 'pred'"});
  expect_error([&] { ops->mean_squared_error(pred, f32({4, 2}), f32({3}), 1.0, dpred); }, kInvalid,
               {"'mask'", "[N]"});
  expect_error([&] { ops->mean_squared_error(pred, f32({4, 2}), f64({4}), 1.0, dpred); }, kInvalid,
               {"'mask'", "f64"});
}

TEST_F(TrainInvalidArgs, ElementwiseAndUpdateOpsNameTheArgument) {
  const Tensor x = f32({3, 4});
  Tensor y = f32({3, 4});
  expect_error([&] { ops->dropout_forward(x, 1.0, 1, 0, y); }, kInvalid, {"TrainOps::dropout_forward", "'p'"});
  expect_error([&] { ops->dropout_forward(x, -0.1, 1, 0, y); }, kInvalid, {"'p'", "[0, 1)"});
  Tensor wrong = f32({4, 3});
  expect_error([&] { ops->dropout_backward(x, 0.5, 1, 0, wrong); }, kInvalid,
               {"TrainOps::dropout_backward", "'dx'", "like 'dy'"});
  expect_error([&] { ops->sum_squares(Tensor::zeros({3}, DType::i64)); }, kInvalid, {"TrainOps::sum_squares", "'x'"});
  expect_error([&] { ops->scale(y, INFINITY); }, kInvalid, {"TrainOps::scale", "'factor'"});

  Tensor param = f32({5}), m = f32({5}), v = f32({5});
  train::SgdHyper sgd;
  sgd.lr = 0.1;
  sgd.momentum = 0.9;
  expect_error([&] { ops->sgd_update(param, f32({5}), TensorView(), sgd); }, kInvalid,
               {"TrainOps::sgd_update", "'momentum'", "required"});
  expect_error([&] { ops->sgd_update(param, f32({4}), m, sgd); }, kInvalid, {"'grad'", "like 'param'"});
  sgd.lr = -1;
  expect_error([&] { ops->sgd_update(param, f32({5}), m, sgd); }, kInvalid, {"'hyper.lr'"});
  train::AdamHyper adam;
  adam.lr = 0.1;
  adam.step = 0;
  expect_error([&] { ops->adam_update(param, f32({5}), m, v, adam); }, kInvalid, {"TrainOps::adam_update", "'hyper.step'"});
  adam.step = 1;
  adam.beta1 = 1.0;
  expect_error([&] { ops->adam_update(param, f32({5}), m, v, adam); }, kInvalid, {"'hyper.beta1'"});
  adam.beta1 = 0.9;
  expect_error([&] { ops->adam_update(param, f32({5}), f64({5}), v, adam); }, kInvalid, {"'m'", "f64"});
  expect_error([&] { ops->adam_update(param, f32({5}), m, param, adam); }, kInvalid, {"'v'", "overlaps"});
}

// TrainOps::copy orders gradient copies on the model's stream (GradientAllreduce); on the cpu it
// copies exactly, and refuses what would be wrong anywhere.
TEST_F(TrainInvalidArgs, CopyCopiesAndNamesTheArgument) {
  const Tensor src = f32({3, 4});
  Tensor dst = poisoned({12}, DType::f32);
  ops->copy(src.view(), dst.view());
  EXPECT_EQ(to_vector(dst), to_vector(src));
  Tensor shorter = f32({11});
  expect_error([&] { ops->copy(src.view(), shorter.view()); }, kInvalid, {"TrainOps::copy", "'dst'", "12 f32"});
  Tensor wider = f64({12});
  expect_error([&] { ops->copy(src.view(), wider.view()); }, kInvalid, {"TrainOps::copy", "'dst'", "f64"});
  Tensor buffer = f32({8});
  const TensorView head(buffer.data(), Shape{6}, DType::f32);
  const TensorView shifted(buffer.data_as<float>() + 2, Shape{6}, DType::f32);
  expect_error([&] { ops->copy(head, shifted); }, kInvalid, {"TrainOps::copy", "overlaps"});
  float host = 0.0f;
  const TensorView on_gpu(&host, Shape{1}, DType::f32, Device::cuda(0));
  expect_error([&] { ops->copy(on_gpu, TensorView(&host, Shape{1}, DType::f32)); }, kInvalid,
               {"TrainOps::copy", "'src'", "cuda:0"});
}

TEST_F(TrainInvalidArgs, LayersNameTheArgument) {
  expect_error([] { train::Linear(0, 3, true, DType::f32, Device::cpu(), 1); }, kInvalid, {"Linear", "'in_features'"});
  expect_error([] { train::Linear(3, 2, true, DType::i32, Device::cpu(), 1); }, kInvalid, {"Linear", "'dtype'"});
  expect_error([] { train::Embedding(5, 0, DType::f32, Device::cpu(), 1); }, kInvalid, {"Embedding", "'dim'"});
  expect_error([] { train::Dropout(1.0); }, kInvalid, {"Dropout", "'p'"});
  const train::Linear layer(4, 2, true, DType::f32, Device::cpu(), 1);
  expect_error([&] { layer.forward(*ops, f32({3, 5})); }, kInvalid, {"Linear::forward", "'x'", "in_features"});
  expect_error([&] { train::Linear().forward(*ops, f32({3, 5})); }, kInvalid, {"Linear::forward", "'this'"});
  if (!cuda_built()) {
    expect_error([] { train::make_train_ops(Device::cuda(0)); }, ErrorCode::unsupported,
                 {"make_train_ops", "cuda:0", "no CUDA"});
  }
}

TEST_F(TrainInvalidArgs, OptimizerConfigAndStep) {
  train::OptimizerConfig c;
  c.kind = "rmsprop";
  expect_error([&] { train::make_optimizer(c); }, kInvalid, {"make_optimizer", "'config.kind'", "rmsprop", "sgd, adam, adamw"});
  c.kind = "adam";
  c.beta1 = 1.0;
  expect_error([&] { train::make_optimizer(c); }, kInvalid, {"'config.beta1'", "[0, 1)"});
  c.beta1 = 0.9;
  c.eps = 0.0;
  expect_error([&] { train::make_optimizer(c); }, kInvalid, {"'config.eps'"});
  c.eps = 1e-8;
  c.weight_decay = -0.1;
  expect_error([&] { train::make_optimizer(c); }, kInvalid, {"'config.weight_decay'"});
  c = train::OptimizerConfig();
  c.kind = "sgd";
  c.nesterov = true;
  expect_error([&] { train::make_optimizer(c); }, kInvalid, {"'config.nesterov'", "momentum"});

  c = train::OptimizerConfig();
  std::unique_ptr<train::Optimizer> opt = train::make_optimizer(c);
  std::vector<Parameter> params = {{"w", f32({2, 3}), f32({2, 3})}};
  expect_error([&] { opt->step(*ops, params, -0.1); }, kInvalid, {"Optimizer::step", "'lr'"});
  expect_error([&] { opt->step(*ops, {{"w", f32({2, 3}), f32({3, 2})}}, 0.1); }, kInvalid,
               {"'params'", "'w'", "grad"});
  expect_error([&] { opt->step(*ops, {params[0], params[0]}, 0.1); }, kInvalid, {"'params'", "two parameters named 'w'"});
  opt->step(*ops, params, 0.1);
  const std::vector<double> before = values(params[0].value);
  // A parameter that changed shape under its name: refused before anything is updated.
  std::vector<Parameter> changed = {{"v", f32({4}), f32({4})}, {"w", f32({6}), f32({6})}};
  const std::vector<double> v_before = values(changed[0].value);
  expect_error([&] { opt->step(*ops, changed, 0.1); }, kInvalid, {"'params'", "'w'", "w.exp_avg"});
  EXPECT_EQ(values(changed[0].value), v_before);
  EXPECT_EQ(values(params[0].value), before);
  EXPECT_EQ(opt->state_dict().count("v.exp_avg"), 0u);  // no state made for 'v' either
}

TEST_F(TrainInvalidArgs, LoadStateDictNamesTheKey) {
  std::unique_ptr<train::Optimizer> opt = train::make_optimizer(train::OptimizerConfig());
  std::vector<Parameter> params = {{"w", f32({2, 3}), f32({2, 3})}};
  opt->step(*ops, params, 0.1);
  const std::map<std::string, Tensor> good = opt->state_dict();

  std::map<std::string, Tensor> missing = good;
  missing.erase("w.exp_avg_sq");
  expect_error([&] { opt->load_state_dict(missing, params); }, kInvalid,
               {"Optimizer::load_state_dict", "lacks key 'w.exp_avg_sq'"});
  std::map<std::string, Tensor> reshaped = good;
  reshaped["w.exp_avg"] = f32({3, 2});
  expect_error([&] { opt->load_state_dict(reshaped, params); }, kInvalid,
               {"'w.exp_avg'", "[3, 2]", "[2, 3]", "parameter 'w'"});
  std::map<std::string, Tensor> retyped = good;
  retyped["w.exp_avg"] = f64({2, 3});
  expect_error([&] { opt->load_state_dict(retyped, params); }, kInvalid, {"'w.exp_avg'", "f64"});
  std::map<std::string, Tensor> no_step = good;
  no_step.erase("step");
  expect_error([&] { opt->load_state_dict(no_step, params); }, kInvalid, {"lacks key 'step'"});
  std::map<std::string, Tensor> bad_step = good;
  bad_step["step"] = f32({1});
  expect_error([&] { opt->load_state_dict(bad_step, params); }, kInvalid, {"'step'", "i64"});
  EXPECT_EQ(opt->steps(), 1);  // nothing was replaced by the failed loads
}

TEST_F(TrainInvalidArgs, ScheduleConfig) {
  train::ScheduleConfig c;
  c.kind = "linear";
  expect_error([&] { train::LrSchedule s(c); }, kInvalid, {"LrSchedule", "'config.kind'", "constant, step, cosine"});
  c.kind = "constant";
  c.base_lr = -0.1;
  expect_error([&] { train::LrSchedule s(c); }, kInvalid, {"'config.base_lr'"});
  c.base_lr = 0.1;
  c.warmup_steps = -1;
  expect_error([&] { train::LrSchedule s(c); }, kInvalid, {"'config.warmup_steps'"});
  c.warmup_steps = 0;
  c.kind = "step";
  expect_error([&] { train::LrSchedule s(c); }, kInvalid, {"'config.step_size'"});
  c.kind = "cosine";
  c.warmup_steps = 5;
  c.total_steps = 5;
  expect_error([&] { train::LrSchedule s(c); }, kInvalid, {"'config.total_steps'", "warmup_steps"});
  c.kind = "constant";
  expect_error([&] { train::LrSchedule(c).lr(-1); }, kInvalid, {"LrSchedule::lr", "'step'"});
}

}  // namespace
}  // namespace gpurnn::testing
