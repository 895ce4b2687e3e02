// TrainOps::sgd_update and adam_update against the update formulas written out in f64, on
// random tensors, f32 and f64. (tests/train/test_optimizer_golden.cpp checks the same updates
// against PyTorch itself.)

#include <gtest/gtest.h>

#include <cmath>

#include "gpurnn/detail/dtype_dispatch.h"
#include "train/train_test_support.h"

namespace gpurnn::testing {
namespace {

class UpdateOpsReference : public ::testing::TestWithParam<DType> {
 protected:
  DType dt() const { return GetParam(); }
  Tensor random(std::uint64_t stream, double scale = 1.0) const {
    return random_tensor({3, 5}, dt(), 91, stream, scale);
  }
  std::unique_ptr<train::TrainOps> ops = train::make_train_ops(Device::cpu());
};

TEST_P(UpdateOpsReference, SgdWithMomentumNesterovAndWeightDecay) {
  for (bool nesterov : {false, true}) {
    Tensor param = random(1), momentum = random(3);
    const Tensor grad = random(2);
    const std::vector<double> p0 = values(param), g = values(grad), b0 = values(momentum);
    train::SgdHyper h;
    h.lr = 0.05;
    h.momentum = 0.8;
    h.weight_decay = 0.03;
    h.nesterov = nesterov;
    std::vector<double> want_p, want_b;
    for (std::size_t i = 0; i < p0.size(); ++i) {
      const double d = g[i] + h.weight_decay * p0[i];
      const double buf = h.momentum * b0[i] + d;
      want_b.push_back(buf);
      want_p.push_back(p0[i] - h.lr * (nesterov ? d + h.momentum * buf : buf));
    }
    ops->sgd_update(param, grad, momentum, h);
    EXPECT_LT(relative_error(values(param), want_p), tolerance(dt())) << "nesterov " << nesterov;
    EXPECT_LT(relative_error(values(momentum), want_b), tolerance(dt())) << "nesterov " << nesterov;
  }
}

TEST_P(UpdateOpsReference, PlainSgdNeedsNoMomentumBuffer) {
  Tensor param = random(1);
  const Tensor grad = random(2);
  const std::vector<double> p0 = values(param), g = values(grad);
  train::SgdHyper h;
  h.lr = 0.1;
  ops->sgd_update(param, grad, TensorView(), h);
  std::vector<double> want;
  for (std::size_t i = 0; i < p0.size(); ++i) want.push_back(p0[i] - 0.1 * g[i]);
  EXPECT_LT(relative_error(values(param), want), tolerance(dt()));
}

TEST_P(UpdateOpsReference, AdamAndAdamW) {
  for (bool decoupled : {false, true}) {
    Tensor param = random(1), m = random(3, 0.1), v = random(4, 0.01);
    // v is a running mean of squares: keep it non-negative.
    detail::visit_floating(dt(), [&](auto tag) {
      using T = decltype(tag);
      for (std::int64_t i = 0; i < v.numel(); ++i) v.data_as<T>()[i] = std::abs(v.data_as<T>()[i]);
    });
    const Tensor grad = random(2);
    const std::vector<double> p0 = values(param), g0 = values(grad), m0 = values(m), v0 = values(v);
    train::AdamHyper h;
    h.lr = 0.01;
    h.beta1 = 0.85;
    h.beta2 = 0.995;
    h.eps = 1e-6;
    h.weight_decay = 0.05;
    h.decoupled = decoupled;
    h.step = 3;
    std::vector<double> want_p, want_m, want_v;
    for (std::size_t i = 0; i < p0.size(); ++i) {
      double p = p0[i], g = g0[i];
      if (decoupled) p -= h.lr * h.weight_decay * p;
      else g += h.weight_decay * p;
      const double mi = h.beta1 * m0[i] + (1 - h.beta1) * g;
      const double vi = h.beta2 * v0[i] + (1 - h.beta2) * g * g;
      const double m_hat = mi / (1 - std::pow(h.beta1, 3)), v_hat = vi / (1 - std::pow(h.beta2, 3));
      want_m.push_back(mi);
      want_v.push_back(vi);
      // PyTorch's eps placement: sqrt(v)/sqrt(bias correction) + eps, i.e. sqrt(v_hat) + eps.
      want_p.push_back(p - h.lr * m_hat / (std::sqrt(v_hat) + h.eps));
    }
    ops->adam_update(param, grad, m, v, h);
    EXPECT_LT(relative_error(values(param), want_p), tolerance(dt())) << "decoupled " << decoupled;
    EXPECT_LT(relative_error(values(m), want_m), tolerance(dt())) << "decoupled " << decoupled;
    EXPECT_LT(relative_error(values(v), want_v), tolerance(dt())) << "decoupled " << decoupled;
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, UpdateOpsReference, ::testing::Values(DType::f32, DType::f64),
                         DTypeName());

}  // namespace
}  // namespace gpurnn::testing
