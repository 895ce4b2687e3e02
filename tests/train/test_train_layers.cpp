// The layers' initialisation (PyTorch's distributions, a pure function of the seed), their
// parameter names, and Dropout's p == 0 shortcut.

#include <gtest/gtest.h>

#include <cmath>

#include "gpurnn/train/layers.h"
#include "train/train_test_support.h"

namespace gpurnn::testing {
namespace {

using train::Parameter;

TEST(TrainLayers, LinearInitIsUniformWithinOneOverSqrtInAndFixedBySeed) {
  const train::Linear a(16, 40, true, DType::f64, Device::cpu(), 5);
  const std::vector<Parameter> p = a.parameters("out.");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].name, "out.weight");
  EXPECT_EQ(p[1].name, "out.bias");
  EXPECT_EQ(p[0].value.shape(), (Shape{40, 16}));
  EXPECT_EQ(p[1].value.shape(), (Shape{40}));
  const std::vector<double> w = values(p[0].value);
  double lo = 1, hi = -1, mean = 0;
  for (double v : w) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    mean += v / static_cast<double>(w.size());
  }
  EXPECT_GE(lo, -0.25);  // 1/sqrt(16)
  EXPECT_LT(hi, 0.25);
  EXPECT_LT(lo, -0.23);  // 640 draws reach near both ends
  EXPECT_GT(hi, 0.23);
  EXPECT_NEAR(mean, 0.0, 0.03);
  for (double v : values(p[1].value)) EXPECT_LT(std::abs(v), 0.25);
  for (double v : values(p[0].grad)) EXPECT_EQ(v, 0.0);

  const train::Linear same(16, 40, true, DType::f64, Device::cpu(), 5);
  const train::Linear other(16, 40, true, DType::f64, Device::cpu(), 6);
  const train::Linear single(16, 40, true, DType::f32, Device::cpu(), 5);
  EXPECT_EQ(values(same.parameters("")[0].value), w);
  EXPECT_GT(relative_error(values(other.parameters("")[0].value), w), 0.5);
  // f32 holds the f64 draws rounded: the dtype does not change the sequence.
  EXPECT_LT(relative_error(values(single.parameters("")[0].value), w), 1e-7);
  EXPECT_EQ(train::Linear(3, 2, false, DType::f32, Device::cpu(), 1).parameters("").size(), 1u);
}

TEST(TrainLayers, EmbeddingInitIsStandardNormal) {
  const train::Embedding emb(200, 50, DType::f64, Device::cpu(), 3);
  EXPECT_EQ(emb.vocab(), 200);
  EXPECT_EQ(emb.dim(), 50);
  const std::vector<double> t = values(emb.parameters("e.")[0].value);
  double mean = 0, square = 0;
  for (double v : t) {
    mean += v / static_cast<double>(t.size());
    square += v * v / static_cast<double>(t.size());
  }
  EXPECT_NEAR(mean, 0.0, 0.03);  // 10000 draws: standard error 0.01
  EXPECT_NEAR(square, 1.0, 0.05);
}

TEST(TrainLayers, DropoutWithZeroProbabilityPassesTensorsThrough) {
  std::unique_ptr<train::TrainOps> ops = train::make_train_ops(Device::cpu());
  const train::Dropout none(0.0);
  const Tensor x = random_tensor({3, 4}, DType::f32, 1, 1);
  EXPECT_EQ(none.forward(*ops, x, 1, 0).data(), x.data());
  EXPECT_EQ(none.backward(*ops, x, 1, 0).data(), x.data());
  const train::Dropout half(0.5);
  const Tensor y = half.forward(*ops, x, 1, 0);
  EXPECT_NE(y.data(), x.data());
  EXPECT_EQ(y.shape(), x.shape());
}

}  // namespace
}  // namespace gpurnn::testing
