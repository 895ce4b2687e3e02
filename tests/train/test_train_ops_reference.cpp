// Every call of the cpu TrainOps against a naive f64 loop written here, in f32 and f64, on random
// inputs; outputs are poisoned (NaN) before a call that overwrites them and random before one
// that accumulates, so an unwritten or wrongly overwritten element fails.

#include <gtest/gtest.h>

#include <cmath>

#include "gpurnn/detail/counter_random.h"
#include "gpurnn/detail/dtype_dispatch.h"
#include "train/train_test_support.h"

namespace gpurnn::testing {
namespace {

using train::LossSum;
using train::TrainOps;

class TrainOpsReference : public ::testing::TestWithParam<DType> {
 protected:
  DType dt() const { return GetParam(); }
  Tensor random(Shape shape, std::uint64_t stream) const { return random_tensor(shape, dt(), 77, stream); }
  void expect_close(const Tensor& got, const std::vector<double>& want, const char* what) const {
    EXPECT_LT(relative_error(values(got), want), tolerance(dt())) << what << " in " << to_string(dt());
  }
  std::unique_ptr<TrainOps> ops = train::make_train_ops(Device::cpu());
};

struct LinearShape {
  std::int64_t n, in, out;
};

TEST_P(TrainOpsReference, LinearForwardWithAndWithoutBias) {
  // n == 1 takes OpenBLAS's GEMV path; out == 1 a single-column product.
  for (LinearShape s : {LinearShape{7, 5, 3}, LinearShape{1, 4, 6}, LinearShape{5, 3, 1}}) {
    const Tensor x = random({s.n, s.in}, 1), w = random({s.out, s.in}, 2), b = random({s.out}, 3);
    const std::vector<double> vx = values(x), vw = values(w), vb = values(b);
    for (bool bias : {true, false}) {
      Tensor y = poisoned({s.n, s.out}, dt());
      ops->linear_forward(x, w, bias ? b.view() : ConstTensorView(), y);
      std::vector<double> want(static_cast<std::size_t>(s.n * s.out));
      for (std::int64_t r = 0; r < s.n; ++r) {
        for (std::int64_t j = 0; j < s.out; ++j) {
          double sum = bias ? vb[j] : 0.0;
          for (std::int64_t k = 0; k < s.in; ++k) sum += vx[r * s.in + k] * vw[j * s.in + k];
          want[r * s.out + j] = sum;
        }
      }
      expect_close(y, want, bias ? "y (bias)" : "y (no bias)");
    }
  }
}

TEST_P(TrainOpsReference, LinearBackwardOverwriteAccumulateAndOmittedOutputs) {
  for (LinearShape s : {LinearShape{7, 5, 3}, LinearShape{1, 4, 6}, LinearShape{5, 3, 1}}) {
    const Tensor x = random({s.n, s.in}, 1), w = random({s.out, s.in}, 2), dy = random({s.n, s.out}, 4);
    const std::vector<double> vx = values(x), vw = values(w), vdy = values(dy);
    std::vector<double> dx(static_cast<std::size_t>(s.n * s.in), 0.0);
    std::vector<double> dw(static_cast<std::size_t>(s.out * s.in), 0.0), db(static_cast<std::size_t>(s.out), 0.0);
    for (std::int64_t r = 0; r < s.n; ++r) {
      for (std::int64_t j = 0; j < s.out; ++j) {
        db[j] += vdy[r * s.out + j];
        for (std::int64_t k = 0; k < s.in; ++k) {
          dx[r * s.in + k] += vdy[r * s.out + j] * vw[j * s.in + k];
          dw[j * s.in + k] += vdy[r * s.out + j] * vx[r * s.in + k];
        }
      }
    }
    for (bool accumulate : {false, true}) {
      Tensor gx = poisoned({s.n, s.in}, dt());  // dx is always overwritten
      Tensor gw = accumulate ? random({s.out, s.in}, 5) : poisoned({s.out, s.in}, dt());
      Tensor gb = accumulate ? random({s.out}, 6) : poisoned({s.out}, dt());
      std::vector<double> want_w = dw, want_b = db;
      if (accumulate) {
        for (std::size_t k = 0; k < want_w.size(); ++k) want_w[k] += values(gw)[k];
        for (std::size_t k = 0; k < want_b.size(); ++k) want_b[k] += values(gb)[k];
      }
      ops->linear_backward(x, w, dy, gx, gw, gb, accumulate);
      expect_close(gx, dx, "dx");
      expect_close(gw, want_w, accumulate ? "dw (accumulate)" : "dw");
      expect_close(gb, want_b, accumulate ? "db (accumulate)" : "db");
    }
    Tensor gw = poisoned({s.out, s.in}, dt());
    ops->linear_backward(x, w, dy, TensorView(), gw, TensorView(), false);  // dx, db omitted
    expect_close(gw, dw, "dw (dx and db omitted)");
  }
}

TEST_P(TrainOpsReference, LinearWithEmptyBatchOrNoInputs) {
  // in == 0: y is the bias alone and dw is empty; n == 0: nothing to compute, dw and db zero.
  const Tensor w0 = Tensor::empty({3, 0}, dt()), b = random({3}, 3);
  const Tensor x0 = Tensor::empty({2, 0}, dt());
  Tensor y = poisoned({2, 3}, dt());
  ops->linear_forward(x0, w0, b, y);
  const std::vector<double> vb = values(b);
  expect_close(y, {vb[0], vb[1], vb[2], vb[0], vb[1], vb[2]}, "y (in = 0)");

  const Tensor x = Tensor::empty({0, 4}, dt()), w = random({3, 4}, 2), dy = Tensor::empty({0, 3}, dt());
  Tensor gw = poisoned({3, 4}, dt()), gb = poisoned({3}, dt());
  ops->linear_backward(x, w, dy, TensorView(), gw, gb, false);
  EXPECT_EQ(values(gw), std::vector<double>(12, 0.0));
  EXPECT_EQ(values(gb), std::vector<double>(3, 0.0));
}

TEST_P(TrainOpsReference, EmbeddingForwardAndBackwardWithRepeatedIds) {
  const std::int64_t vocab = 6, dim = 4;
  const Tensor table = random({vocab, dim}, 1);
  const Tensor ids = ids_tensor({3, 0, 5, 3, 3, 1, 5});  // 3 three times, 5 twice; 2 and 4 unused
  const std::int32_t* id = ids.data_as<std::int32_t>();
  const std::int64_t n = ids.numel();
  Tensor y = poisoned({n, dim}, dt());
  ops->embedding_forward(table, ids, y);
  std::vector<double> want_y;
  for (std::int64_t r = 0; r < n; ++r) {
    for (std::int64_t e = 0; e < dim; ++e) want_y.push_back(values(table)[id[r] * dim + e]);
  }
  expect_close(y, want_y, "y");

  const Tensor dy = random({n, dim}, 2);
  for (bool accumulate : {false, true}) {
    Tensor dtable = accumulate ? random({vocab, dim}, 3) : poisoned({vocab, dim}, dt());
    std::vector<double> want = accumulate ? values(dtable) : std::vector<double>(vocab * dim, 0.0);
    for (std::int64_t r = 0; r < n; ++r) {
      for (std::int64_t e = 0; e < dim; ++e) want[id[r] * dim + e] += values(dy)[r * dim + e];
    }
    ops->embedding_backward(ids, dy, dtable, accumulate);
    expect_close(dtable, want, accumulate ? "dtable (accumulate)" : "dtable");
  }
}

TEST_P(TrainOpsReference, DropoutMatchesCounterMaskAndBackwardRecomputesIt) {
  const double p = 0.3;
  const Tensor x = random({40, 25}, 1);
  Tensor y = poisoned(x.shape(), dt());
  ops->dropout_forward(x, p, 11, 2, y);
  std::vector<double> want;
  std::int64_t zeros = 0;
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    const double s = detail::dropout_scale(11, 2, static_cast<std::uint64_t>(i), p);
    zeros += s == 0.0;
    want.push_back(values(x)[i] * s);
  }
  expect_close(y, want, "y");
  EXPECT_NEAR(static_cast<double>(zeros) / static_cast<double>(x.numel()), p, 0.05);

  // Backward applies the same mask, here in place (dx aliases dy, which the interface allows).
  Tensor dy = x.clone();
  ops->dropout_backward(dy, p, 11, 2, dy);
  expect_close(dy, want, "dx (in place)");
  Tensor other = poisoned(x.shape(), dt());
  ops->dropout_forward(x, p, 12, 2, other);  // another seed, another mask
  EXPECT_GT(relative_error(values(other), want), 0.1);
}

TEST_P(TrainOpsReference, SoftmaxCrossEntropySkipsIgnoredRows) {
  const std::int64_t n = 6, v = 5;
  const Tensor logits = random_tensor({n, v}, dt(), 77, 1, 3.0);
  const std::int32_t ignore = -100;
  const Tensor targets = ids_tensor({2, ignore, 0, 4, ignore, 2});
  const std::int32_t* t = targets.data_as<std::int32_t>();
  const double grad_scale = 0.25;
  double want_sum = 0.0;
  std::vector<double> want_d(n * v, 0.0);
  const std::vector<double> vl = values(logits);
  for (std::int64_t r = 0; r < n; ++r) {
    if (t[r] == ignore) continue;
    double z = 0.0;
    for (std::int64_t j = 0; j < v; ++j) z += std::exp(vl[r * v + j]);
    want_sum += std::log(z) - vl[r * v + t[r]];
    for (std::int64_t j = 0; j < v; ++j) {
      want_d[r * v + j] = grad_scale * (std::exp(vl[r * v + j]) / z - (j == t[r] ? 1.0 : 0.0));
    }
  }
  Tensor dlogits = poisoned({n, v}, dt());
  const LossSum loss = ops->softmax_cross_entropy(logits, targets, ignore, grad_scale, dlogits);
  EXPECT_EQ(loss.count, 4);
  EXPECT_NEAR(loss.sum, want_sum, 1e-12 * std::abs(want_sum));
  expect_close(dlogits, want_d, "dlogits");

  const LossSum eval = ops->softmax_cross_entropy(logits, targets, ignore, grad_scale, TensorView());
  EXPECT_EQ(eval.count, 4);
  EXPECT_EQ(eval.sum, loss.sum);
}

TEST_P(TrainOpsReference, SoftmaxCrossEntropyIsStableForLargeLogits) {
  // Shifting every logit of a row by a constant changes nothing; without max-subtraction
  // exp(1000) overflows.
  const Tensor logits = random({3, 4}, 1);
  Tensor shifted = logits.clone();
  const double offset = dt() == DType::f32 ? 80.0 : 1000.0;  // f32 logits keep ~1e-5 absolute
  detail::visit_floating(dt(), [&](auto tag) {
    using T = decltype(tag);
    for (std::int64_t i = 0; i < shifted.numel(); ++i) shifted.data_as<T>()[i] += static_cast<T>(offset);
  });
  const Tensor targets = ids_tensor({0, 3, 1});
  Tensor d1 = poisoned({3, 4}, dt()), d2 = poisoned({3, 4}, dt());
  const LossSum a = ops->softmax_cross_entropy(logits, targets, -1, 1.0, d1);
  const LossSum b = ops->softmax_cross_entropy(shifted, targets, -1, 1.0, d2);
  EXPECT_TRUE(std::isfinite(b.sum));
  EXPECT_NEAR(a.sum, b.sum, dt() == DType::f32 ? 2e-5 : 1e-12);
  EXPECT_LT(relative_error(d2, d1), dt() == DType::f32 ? 2e-5 : 1e-12);
}

TEST_P(TrainOpsReference, MaskedMeanSquaredError) {
  const std::int64_t n = 5, d = 3;
  const Tensor pred = random({n, d}, 1), target = random({n, d}, 2);
  const Tensor mask = Tensor::from_host<double>({n}, std::vector<double>{1.0, 0.0, 0.5, 2.0, 0.0}.data()).to(dt());
  const double grad_scale = 0.5;
  for (bool masked : {true, false}) {
    double want_sum = 0.0;
    std::vector<double> want_d;
    for (std::int64_t r = 0; r < n; ++r) {
      const double m = masked ? values(mask)[r] : 1.0;
      for (std::int64_t k = 0; k < d; ++k) {
        const double diff = values(pred)[r * d + k] - values(target)[r * d + k];
        want_sum += m * diff * diff;
        want_d.push_back(grad_scale * 2.0 * m * diff);
      }
    }
    Tensor dpred = poisoned({n, d}, dt());
    const LossSum loss = ops->mean_squared_error(pred, target, masked ? mask.view() : ConstTensorView(),
                                                 grad_scale, dpred);
    EXPECT_EQ(loss.count, masked ? 3 : 5);
    EXPECT_NEAR(loss.sum, want_sum, 1e-12 * want_sum);
    expect_close(dpred, want_d, masked ? "dpred (mask)" : "dpred (no mask)");
    const LossSum eval = ops->mean_squared_error(pred, target, masked ? mask.view() : ConstTensorView(),
                                                 grad_scale, TensorView());
    EXPECT_EQ(eval.sum, loss.sum);
  }
}

TEST_P(TrainOpsReference, SumSquaresAndScale) {
  const Tensor x = random({4, 3, 2}, 1);
  double want = 0.0;
  for (double v : values(x)) want += v * v;
  EXPECT_NEAR(ops->sum_squares(x), want, 1e-13 * want);
  Tensor y = x.clone();
  ops->scale(y, -0.37);
  std::vector<double> want_y;
  for (double v : values(x)) want_y.push_back(v * -0.37);
  expect_close(y, want_y, "scaled x");
}

INSTANTIATE_TEST_SUITE_P(Dtypes, TrainOpsReference, ::testing::Values(DType::f32, DType::f64),
                         DTypeName());

}  // namespace
}  // namespace gpurnn::testing
