// Finite-difference gradient checks in f64 of the training layers and losses: Linear (dx, dW,
// db), Embedding (repeated ids), Dropout, softmax cross-entropy (with ignored rows) and masked
// MSE. Each loss is a scalar function of the inputs; central differences of it are compared
// with what backward returns.

#include <gtest/gtest.h>

#include <functional>

#include "gpurnn/train/layers.h"
#include "train/train_test_support.h"

namespace gpurnn::testing {
namespace {

using train::Parameter;

constexpr double kTolerance = 1e-7;

Tensor random64(Shape shape, std::uint64_t stream) { return random_tensor(shape, DType::f64, 5, stream); }

class TrainGradCheck : public ::testing::Test {
 protected:
  std::unique_ptr<train::TrainOps> ops = train::make_train_ops(Device::cpu());
};

TEST_F(TrainGradCheck, LinearInputWeightAndBias) {
  for (bool bias : {true, false}) {
    train::Linear layer(5, 3, bias, DType::f64, Device::cpu(), 17);
    const Tensor x = random64({4, 5}, 1), r = random64({4, 3}, 2);
    const auto loss = [&] { return weighted_sum(layer.forward(*ops, x), r); };
    const Tensor dx = layer.backward(*ops, x, r, true);
    EXPECT_LT(relative_error(values(dx), numeric_gradient(x, loss)), kTolerance) << "dx";
    const std::vector<Parameter> params = layer.parameters("out.");
    ASSERT_EQ(params.size(), bias ? 2u : 1u);
    for (const Parameter& p : params) {
      EXPECT_LT(relative_error(values(p.grad), numeric_gradient(p.value, loss)), kTolerance) << p.name;
    }
  }
}

TEST_F(TrainGradCheck, LinearBackwardAddsIntoTheGradients) {
  train::Linear layer(4, 2, true, DType::f64, Device::cpu(), 3);
  const Tensor x = random64({3, 4}, 1), r = random64({3, 2}, 2);
  layer.backward(*ops, x, r, false);
  const std::vector<double> once = values(layer.parameters("")[0].grad);
  EXPECT_FALSE(layer.backward(*ops, x, r, false).defined());  // want_dx false: no dx
  std::vector<double> twice;
  for (double v : once) twice.push_back(2 * v);
  EXPECT_LT(relative_error(values(layer.parameters("")[0].grad), twice), 1e-15);
}

TEST_F(TrainGradCheck, EmbeddingWithRepeatedIds) {
  train::Embedding layer(5, 3, DType::f64, Device::cpu(), 8);
  const Tensor ids = ids_tensor({1, 3, 1, 1, 4});  // row 1 three times; rows 0 and 2 unused
  const Tensor r = random64({5, 3}, 2);
  const auto loss = [&] { return weighted_sum(layer.forward(*ops, ids), r); };
  layer.backward(*ops, ids, r);
  const Parameter table = layer.parameters("emb.")[0];
  EXPECT_EQ(table.name, "emb.weight");
  EXPECT_LT(relative_error(values(table.grad), numeric_gradient(table.value, loss)), kTolerance);
}

TEST_F(TrainGradCheck, Dropout) {
  const train::Dropout dropout(0.4);
  const Tensor x = random64({6, 5}, 1), r = random64({6, 5}, 2);
  const auto loss = [&] { return weighted_sum(dropout.forward(*ops, x, 99, 3), r); };
  const Tensor dx = dropout.backward(*ops, r.clone(), 99, 3);
  EXPECT_LT(relative_error(values(dx), numeric_gradient(x, loss)), kTolerance);
}

TEST_F(TrainGradCheck, SoftmaxCrossEntropyWithIgnoredRows) {
  const Tensor logits = random_tensor({5, 4}, DType::f64, 5, 1, 2.0);
  const Tensor targets = ids_tensor({3, 0, -1, 2, -1});
  const double grad_scale = 0.7;
  const auto loss = [&] {
    return grad_scale * ops->softmax_cross_entropy(logits, targets, -1, grad_scale, TensorView()).sum;
  };
  Tensor dlogits = poisoned({5, 4}, DType::f64);
  ops->softmax_cross_entropy(logits, targets, -1, grad_scale, dlogits);
  const std::vector<double> numeric = numeric_gradient(logits, loss);
  EXPECT_LT(relative_error(values(dlogits), numeric), kTolerance);
  for (std::int64_t j = 0; j < 4; ++j) {  // ignored rows 2 and 4: no gradient at all
    EXPECT_EQ(values(dlogits)[2 * 4 + j], 0.0);
    EXPECT_EQ(values(dlogits)[4 * 4 + j], 0.0);
  }
}

TEST_F(TrainGradCheck, MaskedMeanSquaredError) {
  const Tensor pred = random64({4, 3}, 1), target = random64({4, 3}, 2);
  const double m[4] = {1.0, 0.0, 0.25, 3.0};
  const Tensor mask = Tensor::from_host<double>({4}, m);
  const double grad_scale = 0.3;
  const auto loss = [&] {
    return grad_scale * ops->mean_squared_error(pred, target, mask, grad_scale, TensorView()).sum;
  };
  Tensor dpred = poisoned({4, 3}, DType::f64);
  ops->mean_squared_error(pred, target, mask, grad_scale, dpred);
  EXPECT_LT(relative_error(values(dpred), numeric_gradient(pred, loss)), kTolerance);
}

}  // namespace
}  // namespace gpurnn::testing
