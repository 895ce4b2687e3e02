// The attention calls of the cpu TrainOps (gpurnn/train/ops.h, "Attention") against naive f64
// loops written here, in f32 and f64, on random inputs: outputs poisoned (NaN) before a call
// that overwrites them and random before one that accumulates; omitted optional outputs; the
// in-place forms the contract allows; masking by lengths and by an excluded mask; softmax rows
// with -infinity entries and a row that is all -infinity. Then finite-difference checks in f64
// that each backward call is the gradient of its forward, and the bad arguments that must be an
// Error naming the call and the argument.

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "gpurnn/detail/dtype_dispatch.h"
#include "train/train_test_support.h"

namespace gpurnn::testing {
namespace {

using train::TrainOps;
constexpr double kInf = std::numeric_limits<double>::infinity();

// Time-major index of [X, B, Y]: element (x, b, y).
std::size_t at(std::int64_t x, std::int64_t b, std::int64_t y, std::int64_t nb, std::int64_t ny) {
  return static_cast<std::size_t>((x * nb + b) * ny + y);
}

Tensor from_values(const std::vector<double>& v, Shape shape, DType dtype) {
  Tensor t = Tensor::empty(shape, dtype);
  detail::visit_floating(dtype, [&](auto tag) {
    using T = decltype(tag);
    for (std::size_t i = 0; i < v.size(); ++i) t.data_as<T>()[i] = static_cast<T>(v[i]);
  });
  return t;
}

std::vector<double> plus(std::vector<double> a, const std::vector<double>& b) {
  for (std::size_t i = 0; i < a.size(); ++i) a[i] += b[i];
  return a;
}

// Sizes of one attention problem: T queries, B batch rows, S memory rows, D features.
struct Dims {
  std::int64_t t, b, s, d;
};
// Odd sizes, batch 1 (one GEMM), a single query (GEMV path), a single memory row and feature.
const Dims kDims[] = {{3, 2, 4, 5}, {4, 1, 3, 2}, {1, 3, 5, 4}, {2, 3, 1, 1}};

// scores[t, b, s] = sum_d q[t, b, d] * k[s, b, d] (also dweights = dcontext . values)
std::vector<double> ref_scores(const Dims& n, const std::vector<double>& q, const std::vector<double>& k) {
  std::vector<double> out(static_cast<std::size_t>(n.t * n.b * n.s), 0.0);
  for (std::int64_t t = 0; t < n.t; ++t)
    for (std::int64_t b = 0; b < n.b; ++b)
      for (std::int64_t s = 0; s < n.s; ++s)
        for (std::int64_t d = 0; d < n.d; ++d) out[at(t, b, s, n.b, n.s)] += q[at(t, b, d, n.b, n.d)] * k[at(s, b, d, n.b, n.d)];
  return out;
}
// out[t, b, :] = sum_s w[t, b, s] * m[s, b, :]   (context; also dquery = dscores . keys)
std::vector<double> ref_weighted_rows(const Dims& n, const std::vector<double>& w, const std::vector<double>& m) {
  std::vector<double> out(static_cast<std::size_t>(n.t * n.b * n.d), 0.0);
  for (std::int64_t t = 0; t < n.t; ++t)
    for (std::int64_t b = 0; b < n.b; ++b)
      for (std::int64_t s = 0; s < n.s; ++s)
        for (std::int64_t d = 0; d < n.d; ++d) out[at(t, b, d, n.b, n.d)] += w[at(t, b, s, n.b, n.s)] * m[at(s, b, d, n.b, n.d)];
  return out;
}
// out[s, b, :] = sum_t w[t, b, s] * x[t, b, :]   (dkeys, dvalues)
std::vector<double> ref_transposed_rows(const Dims& n, const std::vector<double>& w, const std::vector<double>& x) {
  std::vector<double> out(static_cast<std::size_t>(n.s * n.b * n.d), 0.0);
  for (std::int64_t t = 0; t < n.t; ++t)
    for (std::int64_t b = 0; b < n.b; ++b)
      for (std::int64_t s = 0; s < n.s; ++s)
        for (std::int64_t d = 0; d < n.d; ++d) out[at(s, b, d, n.b, n.d)] += w[at(t, b, s, n.b, n.s)] * x[at(t, b, d, n.b, n.d)];
  return out;
}

struct AdditiveGrads {
  std::vector<double> scores, dquery, dkeys, dv;
};
// Additive scores (A = n.d) and, for dscores, the three gradients.
AdditiveGrads ref_additive(const Dims& n, const std::vector<double>& q, const std::vector<double>& k,
                           const std::vector<double>& v, const std::vector<double>& ds) {
  AdditiveGrads g;
  g.scores.assign(static_cast<std::size_t>(n.t * n.b * n.s), 0.0);
  g.dquery.assign(q.size(), 0.0);
  g.dkeys.assign(k.size(), 0.0);
  g.dv.assign(v.size(), 0.0);
  for (std::int64_t t = 0; t < n.t; ++t)
    for (std::int64_t b = 0; b < n.b; ++b)
      for (std::int64_t s = 0; s < n.s; ++s)
        for (std::int64_t a = 0; a < n.d; ++a) {
          const double th = std::tanh(k[at(s, b, a, n.b, n.d)] + q[at(t, b, a, n.b, n.d)]);
          const double d = ds[at(t, b, s, n.b, n.s)];
          g.scores[at(t, b, s, n.b, n.s)] += v[a] * th;
          g.dquery[at(t, b, a, n.b, n.d)] += d * v[a] * (1 - th * th);
          g.dkeys[at(s, b, a, n.b, n.d)] += d * v[a] * (1 - th * th);
          g.dv[a] += d * th;
        }
  return g;
}

std::vector<double> ref_softmax(const std::vector<double>& x, std::int64_t s) {
  std::vector<double> y(x.size(), 0.0);
  for (std::size_t r = 0; r < x.size() / s; ++r) {
    double mx = -kInf, sum = 0.0;
    for (std::int64_t j = 0; j < s; ++j) mx = std::max(mx, x[r * s + j]);
    if (mx == -kInf) continue;  // all masked: zeros
    for (std::int64_t j = 0; j < s; ++j) sum += std::exp(x[r * s + j] - mx);
    for (std::int64_t j = 0; j < s; ++j) y[r * s + j] = std::exp(x[r * s + j] - mx) / sum;
  }
  return y;
}

class AttentionOpsReference : public ::testing::TestWithParam<DType> {
 protected:
  DType dt() const { return GetParam(); }
  Tensor random(Shape shape, std::uint64_t stream) const { return random_tensor(shape, dt(), 91, stream); }
  Tensor poison(Shape shape) const { return poisoned(shape, dt()); }
  void expect_close(const Tensor& got, const std::vector<double>& want, const std::string& what) const {
    EXPECT_LT(relative_error(values(got), want), tolerance(dt())) << what << " in " << to_string(dt());
  }
  std::unique_ptr<TrainOps> ops = train::make_train_ops(Device::cpu());
};

TEST_P(AttentionOpsReference, ScoresForward) {
  for (const Dims& n : kDims) {
    const Tensor q = random({n.t, n.b, n.d}, 1), k = random({n.s, n.b, n.d}, 2);
    Tensor scores = poison({n.t, n.b, n.s});
    ops->attention_scores(q, k, scores);
    expect_close(scores, ref_scores(n, values(q), values(k)), "scores");
  }
}

TEST_P(AttentionOpsReference, ScoresBackwardOverwriteAccumulateAndOmitted) {
  for (const Dims& n : kDims) {
    const Tensor q = random({n.t, n.b, n.d}, 1), k = random({n.s, n.b, n.d}, 2), ds = random({n.t, n.b, n.s}, 3);
    const std::vector<double> want_q = ref_weighted_rows(n, values(ds), values(k));
    const std::vector<double> want_k = ref_transposed_rows(n, values(ds), values(q));
    for (bool accumulate : {false, true}) {
      Tensor dq = accumulate ? random({n.t, n.b, n.d}, 4) : poison({n.t, n.b, n.d});
      Tensor dk = accumulate ? random({n.s, n.b, n.d}, 5) : poison({n.s, n.b, n.d});
      const std::vector<double> q0 = accumulate ? values(dq) : std::vector<double>(want_q.size(), 0.0);
      const std::vector<double> k0 = accumulate ? values(dk) : std::vector<double>(want_k.size(), 0.0);
      ops->attention_scores_backward(q, k, ds, dq, dk, accumulate);
      expect_close(dq, plus(q0, want_q), accumulate ? "dquery (accumulate)" : "dquery");
      expect_close(dk, plus(k0, want_k), accumulate ? "dkeys (accumulate)" : "dkeys");
    }
    Tensor dq = poison({n.t, n.b, n.d}), dk = poison({n.s, n.b, n.d});
    ops->attention_scores_backward(q, k, ds, dq, TensorView(), false);
    expect_close(dq, want_q, "dquery (dkeys omitted)");
    ops->attention_scores_backward(q, k, ds, TensorView(), dk, false);
    expect_close(dk, want_k, "dkeys (dquery omitted)");
  }
}

TEST_P(AttentionOpsReference, ContextForward) {
  for (const Dims& n : kDims) {
    const Tensor w = random({n.t, n.b, n.s}, 1), v = random({n.s, n.b, n.d}, 2);
    Tensor context = poison({n.t, n.b, n.d});
    ops->attention_context(w, v, context);
    expect_close(context, ref_weighted_rows(n, values(w), values(v)), "context");
  }
}

TEST_P(AttentionOpsReference, ContextBackwardOverwriteAccumulateAndOmitted) {
  for (const Dims& n : kDims) {
    const Tensor w = random({n.t, n.b, n.s}, 1), v = random({n.s, n.b, n.d}, 2), dc = random({n.t, n.b, n.d}, 3);
    const std::vector<double> want_w = ref_scores(n, values(dc), values(v));
    const std::vector<double> want_v = ref_transposed_rows(n, values(w), values(dc));
    for (bool accumulate : {false, true}) {
      Tensor dw = poison({n.t, n.b, n.s});  // always overwritten
      Tensor dv = accumulate ? random({n.s, n.b, n.d}, 5) : poison({n.s, n.b, n.d});
      const std::vector<double> v0 = accumulate ? values(dv) : std::vector<double>(want_v.size(), 0.0);
      ops->attention_context_backward(w, v, dc, dw, dv, accumulate);
      expect_close(dw, want_w, accumulate ? "dweights (accumulate)" : "dweights");
      expect_close(dv, plus(v0, want_v), accumulate ? "dvalues (accumulate)" : "dvalues");
    }
    Tensor dw = poison({n.t, n.b, n.s}), dv = poison({n.s, n.b, n.d});
    ops->attention_context_backward(w, v, dc, dw, TensorView(), true);
    expect_close(dw, want_w, "dweights (dvalues omitted)");
    ops->attention_context_backward(w, v, dc, TensorView(), dv, false);
    expect_close(dv, want_v, "dvalues (dweights omitted)");
  }
}

TEST_P(AttentionOpsReference, AdditiveScoresForward) {
  for (const Dims& n : kDims) {
    const Tensor q = random({n.t, n.b, n.d}, 1), k = random({n.s, n.b, n.d}, 2), v = random({n.d}, 3);
    Tensor scores = poison({n.t, n.b, n.s});
    ops->additive_scores(q, k, v, scores);
    const std::vector<double> ds(static_cast<std::size_t>(n.t * n.b * n.s), 0.0);
    expect_close(scores, ref_additive(n, values(q), values(k), values(v), ds).scores, "scores");
  }
}

TEST_P(AttentionOpsReference, AdditiveBackwardOverwriteAccumulateAndOmitted) {
  for (const Dims& n : kDims) {
    const Tensor q = random({n.t, n.b, n.d}, 1), k = random({n.s, n.b, n.d}, 2), v = random({n.d}, 3);
    const Tensor ds = random({n.t, n.b, n.s}, 4);
    const AdditiveGrads want = ref_additive(n, values(q), values(k), values(v), values(ds));
    for (bool accumulate : {false, true}) {
      Tensor dq = accumulate ? random({n.t, n.b, n.d}, 5) : poison({n.t, n.b, n.d});
      Tensor dk = accumulate ? random({n.s, n.b, n.d}, 6) : poison({n.s, n.b, n.d});
      Tensor dv = accumulate ? random({n.d}, 7) : poison({n.d});
      const auto start = [&](const Tensor& t, std::size_t size) {
        return accumulate ? values(t) : std::vector<double>(size, 0.0);
      };
      const std::vector<double> q0 = start(dq, want.dquery.size()), k0 = start(dk, want.dkeys.size()),
                                v0 = start(dv, want.dv.size());
      ops->additive_scores_backward(q, k, v, ds, dq, dk, dv, accumulate);
      const std::string mode = accumulate ? " (accumulate)" : "";
      expect_close(dq, plus(q0, want.dquery), "dquery" + mode);
      expect_close(dk, plus(k0, want.dkeys), "dkeys" + mode);
      expect_close(dv, plus(v0, want.dv), "dv" + mode);
    }
    // Each output alone, the other two omitted.
    Tensor dq = poison({n.t, n.b, n.d}), dk = poison({n.s, n.b, n.d}), dv = poison({n.d});
    ops->additive_scores_backward(q, k, v, ds, dq, TensorView(), TensorView(), false);
    expect_close(dq, want.dquery, "dquery alone");
    ops->additive_scores_backward(q, k, v, ds, TensorView(), dk, TensorView(), false);
    expect_close(dk, want.dkeys, "dkeys alone");
    ops->additive_scores_backward(q, k, v, ds, TensorView(), TensorView(), dv, false);
    expect_close(dv, want.dv, "dv alone");
  }
}

TEST_P(AttentionOpsReference, MaskScoresByLengthsByExcludedAndBoth) {
  const std::int64_t t = 2, b = 3, s = 4;
  const std::vector<std::int32_t> lens = {4, 1, 3};  // full, shortest, in between
  std::vector<std::uint8_t> ex(static_cast<std::size_t>(t * b * s), 0);
  for (std::size_t i = 0; i < ex.size(); ++i) ex[i] = (i * 5 + 1) % 3 == 0 ? 1 : 0;
  ex[at(1, 0, 3, b, s)] = 7;  // any non-zero value excludes
  const Tensor lengths = ids_tensor(lens);
  const Tensor excluded = Tensor::from_host<std::uint8_t>({t, b, s}, ex.data());
  for (int mode = 0; mode < 4; ++mode) {  // 0: neither, 1: lengths, 2: excluded, 3: both
    const bool use_len = mode & 1, use_ex = mode & 2;
    const Tensor before = random({t, b, s}, 1);
    Tensor scores = before.clone();
    ops->mask_scores(scores, use_len ? lengths.view() : ConstTensorView(),
                     use_ex ? excluded.view() : ConstTensorView());
    std::vector<double> want = values(before);
    for (std::int64_t ti = 0; ti < t; ++ti)
      for (std::int64_t bi = 0; bi < b; ++bi)
        for (std::int64_t si = 0; si < s; ++si) {
          const std::size_t i = at(ti, bi, si, b, s);
          if ((use_len && si >= lens[bi]) || (use_ex && ex[i] != 0)) want[i] = -kInf;
        }
    EXPECT_EQ(values(scores), want) << "mask mode " << mode << " in " << to_string(dt());
  }
}

TEST_P(AttentionOpsReference, SoftmaxWithMaskedEntriesAnAllMaskedRowAndInPlace) {
  const std::int64_t t = 2, b = 3, s = 5;
  std::vector<double> x = values(random({t, b, s}, 1));
  for (double& e : x) e *= 6.0;                              // a wide range: max-subtraction matters
  x[1] = x[3] = -kInf;                                       // a row with masked entries
  for (std::int64_t j = 0; j < s; ++j) x[2 * s + j] = -kInf; // an all-masked row
  x[3 * s + 4] = -kInf;                                      // one masked entry at a row's end
  const Tensor xt = from_values(x, {t, b, s}, dt());
  const std::vector<double> want = ref_softmax(values(xt), s);
  Tensor y = poison({t, b, s});
  ops->softmax(xt, y);  // rank 3: softmax over the last dimension
  expect_close(y, want, "y");
  EXPECT_EQ(values(y)[1], 0.0);
  for (std::int64_t j = 0; j < s; ++j) EXPECT_EQ(values(y)[2 * s + j], 0.0) << "all-masked row";
  Tensor in_place = xt.clone();
  ops->softmax(in_place, in_place);
  expect_close(in_place, want, "y (in place)");
  // Rank 2 [N, S] as documented.
  const Tensor x2 = random({4, 7}, 2);
  Tensor y2 = poison({4, 7});
  ops->softmax(x2, y2);
  expect_close(y2, ref_softmax(values(x2), 7), "y [N, S]");
}

TEST_P(AttentionOpsReference, SoftmaxBackwardOutOfPlaceAndInPlace) {
  const std::int64_t rows = 6, s = 5;
  const Tensor x = random({rows, s}, 1), dy = random({rows, s}, 2);
  Tensor y = poison({rows, s});
  ops->softmax(x, y);
  const std::vector<double> vy = values(y), vdy = values(dy);
  std::vector<double> want(vy.size());
  for (std::int64_t r = 0; r < rows; ++r) {
    double dot = 0.0;
    for (std::int64_t j = 0; j < s; ++j) dot += vdy[r * s + j] * vy[r * s + j];
    for (std::int64_t j = 0; j < s; ++j) want[r * s + j] = vy[r * s + j] * (vdy[r * s + j] - dot);
  }
  Tensor dx = poison({rows, s});
  ops->softmax_backward(y, dy, dx);
  expect_close(dx, want, "dx");
  Tensor in_place = dy.clone();
  ops->softmax_backward(y, in_place, in_place);
  expect_close(in_place, want, "dx (in place on dy)");
}

TEST_P(AttentionOpsReference, TanhForwardBackwardAndInPlace) {
  const Tensor x = random({3, 2, 5}, 1), dy = random({3, 2, 5}, 2);
  std::vector<double> want_y, want_dx;
  for (double e : values(x)) want_y.push_back(std::tanh(e));
  Tensor y = poison({3, 2, 5});
  ops->tanh_forward(x, y);
  expect_close(y, want_y, "y");
  Tensor y_in_place = x.clone();
  ops->tanh_forward(y_in_place, y_in_place);
  expect_close(y_in_place, want_y, "y (in place)");
  const std::vector<double> vy = values(y), vdy = values(dy);
  for (std::size_t i = 0; i < vy.size(); ++i) want_dx.push_back(vdy[i] * (1 - vy[i] * vy[i]));
  Tensor dx = poison({3, 2, 5});
  ops->tanh_backward(y, dy, dx);
  expect_close(dx, want_dx, "dx");
  Tensor dx_in_place = dy.clone();
  ops->tanh_backward(y, dx_in_place, dx_in_place);
  expect_close(dx_in_place, want_dx, "dx (in place on dy)");
}

TEST_P(AttentionOpsReference, AddScaled) {
  const Tensor x = random({4, 3}, 1);
  Tensor y = random({4, 3}, 2);
  std::vector<double> want = values(y);
  for (std::size_t i = 0; i < want.size(); ++i) want[i] += -0.75 * values(x)[i];
  ops->add_scaled(x, -0.75, y);
  expect_close(y, want, "y");
}

TEST_P(AttentionOpsReference, EmptySumsAreZeros) {
  // T == 0: dkeys, dvalues and dv are empty sums; S == 0: context and dquery are.
  const std::int64_t b = 2, d = 3;
  const Tensor q0 = random({0, b, d}, 1), k = random({4, b, d}, 2), ds0 = random({0, b, 4}, 3);
  Tensor dk = poison({4, b, d}), dv = poison({d});
  ops->attention_scores_backward(q0, k, ds0, TensorView(), dk, false);
  EXPECT_EQ(values(dk), std::vector<double>(dk.numel(), 0.0)) << "dkeys with T = 0";
  Tensor dvalues = poison({4, b, d});
  ops->attention_context_backward(ds0, k, q0, TensorView(), dvalues, false);
  EXPECT_EQ(values(dvalues), std::vector<double>(dvalues.numel(), 0.0)) << "dvalues with T = 0";
  ops->additive_scores_backward(q0, k, random({d}, 4), ds0, TensorView(), TensorView(), dv, false);
  EXPECT_EQ(values(dv), std::vector<double>(d, 0.0)) << "dv with T = 0";

  const Tensor q = random({3, b, d}, 5), k0 = random({0, b, d}, 6), w0 = random({3, b, 0}, 7);
  Tensor context = poison({3, b, d}), dq = poison({3, b, d});
  ops->attention_context(w0, k0, context);
  EXPECT_EQ(values(context), std::vector<double>(context.numel(), 0.0)) << "context with S = 0";
  ops->attention_scores_backward(q, k0, w0, dq, TensorView(), false);
  EXPECT_EQ(values(dq), std::vector<double>(dq.numel(), 0.0)) << "dquery with S = 0";
}

INSTANTIATE_TEST_SUITE_P(Dtypes, AttentionOpsReference, ::testing::Values(DType::f32, DType::f64), DTypeName());

// ---- finite differences (f64): each backward is the gradient of its forward -----------------

constexpr double kGradTolerance = 1e-7;

class AttentionGradCheck : public ::testing::Test {
 protected:
  Tensor random64(Shape shape, std::uint64_t stream) const { return random_tensor(shape, DType::f64, 13, stream); }
  void expect_gradient(const Tensor& got, Tensor input, const std::function<double()>& loss,
                       const char* what) const {
    EXPECT_LT(relative_error(values(got), numeric_gradient(input, loss)), kGradTolerance) << what;
  }
  std::unique_ptr<TrainOps> ops = train::make_train_ops(Device::cpu());
  const Dims n{3, 2, 4, 3};
};

TEST_F(AttentionGradCheck, DotProductScores) {
  const Tensor q = random64({n.t, n.b, n.d}, 1), k = random64({n.s, n.b, n.d}, 2), w = random64({n.t, n.b, n.s}, 3);
  Tensor scores = Tensor::empty({n.t, n.b, n.s}, DType::f64);
  const auto loss = [&] { ops->attention_scores(q, k, scores); return weighted_sum(scores, w); };
  Tensor dq = poisoned({n.t, n.b, n.d}, DType::f64), dk = poisoned({n.s, n.b, n.d}, DType::f64);
  ops->attention_scores_backward(q, k, w, dq, dk, false);
  expect_gradient(dq, q, loss, "dquery");
  expect_gradient(dk, k, loss, "dkeys");
}

TEST_F(AttentionGradCheck, Context) {
  const Tensor a = random64({n.t, n.b, n.s}, 1), v = random64({n.s, n.b, n.d}, 2), w = random64({n.t, n.b, n.d}, 3);
  Tensor context = Tensor::empty({n.t, n.b, n.d}, DType::f64);
  const auto loss = [&] { ops->attention_context(a, v, context); return weighted_sum(context, w); };
  Tensor da = poisoned({n.t, n.b, n.s}, DType::f64), dv = poisoned({n.s, n.b, n.d}, DType::f64);
  ops->attention_context_backward(a, v, w, da, dv, false);
  expect_gradient(da, a, loss, "dweights");
  expect_gradient(dv, v, loss, "dvalues");
}

TEST_F(AttentionGradCheck, AdditiveScores) {
  const Tensor q = random64({n.t, n.b, n.d}, 1), k = random64({n.s, n.b, n.d}, 2), v = random64({n.d}, 3);
  const Tensor w = random64({n.t, n.b, n.s}, 4);
  Tensor scores = Tensor::empty({n.t, n.b, n.s}, DType::f64);
  const auto loss = [&] { ops->additive_scores(q, k, v, scores); return weighted_sum(scores, w); };
  Tensor dq = poisoned({n.t, n.b, n.d}, DType::f64), dk = poisoned({n.s, n.b, n.d}, DType::f64);
  Tensor dv = poisoned({n.d}, DType::f64);
  ops->additive_scores_backward(q, k, v, w, dq, dk, dv, false);
  expect_gradient(dq, q, loss, "dquery");
  expect_gradient(dk, k, loss, "dkeys");
  expect_gradient(dv, v, loss, "dv");
}

TEST_F(AttentionGradCheck, SoftmaxAndTanh) {
  const Tensor x = random64({4, 5}, 1), w = random64({4, 5}, 2);
  Tensor y = Tensor::empty({4, 5}, DType::f64);
  const auto softmax_loss = [&] { ops->softmax(x, y); return weighted_sum(y, w); };
  softmax_loss();
  Tensor dx = poisoned({4, 5}, DType::f64);
  ops->softmax_backward(y, w, dx);
  expect_gradient(dx, x, softmax_loss, "softmax dx");

  const auto tanh_loss = [&] { ops->tanh_forward(x, y); return weighted_sum(y, w); };
  tanh_loss();
  ops->tanh_backward(y, w, dx);
  expect_gradient(dx, x, tanh_loss, "tanh dx");
}

// ---- bad arguments ---------------------------------------------------------------------------

constexpr ErrorCode kInvalid = ErrorCode::invalid_argument;

class AttentionInvalidArgs : public ::testing::Test {
 protected:
  Tensor f32(Shape shape) const { return random_tensor(shape, DType::f32, 3, 1); }
  Tensor f64(Shape shape) const { return random_tensor(shape, DType::f64, 3, 1); }
  std::unique_ptr<TrainOps> ops = train::make_train_ops(Device::cpu());
};

TEST_F(AttentionInvalidArgs, ProductsNameTheArgument) {
  const Tensor q = f32({3, 2, 4}), k = f32({5, 2, 4});
  Tensor scores = f32({3, 2, 5});
  expect_error([&] { ops->attention_scores(q, f32({5, 3, 4}), scores); }, kInvalid,
               {"TrainOps::attention_scores", "'keys'", "[5, 3, 4]", "[S, B, D]"});
  expect_error([&] { ops->attention_scores(q, f64({5, 2, 4}), scores); }, kInvalid, {"'keys'", "f64"});
  expect_error([&] { ops->attention_scores(f32({3, 8}), k, scores); }, kInvalid, {"'query'", "[T, B, D]"});
  Tensor wrong = f32({3, 2, 4});
  expect_error([&] { ops->attention_scores(q, k, wrong); }, kInvalid, {"'scores'", "[3, 2, 4]"});
  Tensor dq = f32({3, 2, 4}), wrong_dk = f32({5, 2, 3});
  expect_error([&] { ops->attention_scores_backward(q, k, scores, dq, wrong_dk, false); }, kInvalid,
               {"TrainOps::attention_scores_backward", "'dkeys'"});
  expect_error([&] { ops->attention_scores_backward(q, k, f32({3, 2, 4}), dq, TensorView(), false); }, kInvalid,
               {"'dscores'", "[T, B, S]"});

  const Tensor w = f32({3, 2, 5}), v = f32({5, 2, 6});
  Tensor context = f32({3, 2, 6});
  expect_error([&] { ops->attention_context(w, f32({4, 2, 6}), context); }, kInvalid,
               {"TrainOps::attention_context", "'values'"});
  expect_error([&] { ops->attention_context(w, v, scores); }, kInvalid, {"'context'", "[T, B, D]"});
  Tensor dw = f32({3, 2, 5});
  expect_error([&] { ops->attention_context_backward(w, v, f32({3, 2, 5}), dw, TensorView(), false); }, kInvalid,
               {"TrainOps::attention_context_backward", "'dcontext'"});
  Tensor dv64 = f64({5, 2, 6});
  expect_error([&] { ops->attention_context_backward(w, v, context, dw, dv64, false); }, kInvalid,
               {"'dvalues'", "f64"});
  // A written argument may not alias a read one.
  Tensor square = f32({2, 2, 2});
  expect_error([&] { ops->attention_scores(square, f32({2, 2, 2}), square); }, kInvalid,
               {"'scores'", "overlaps", "'query'"});
}

TEST_F(AttentionInvalidArgs, AdditiveScoresNameTheArgument) {
  const Tensor q = f32({3, 2, 4}), k = f32({5, 2, 4}), v = f32({4});
  Tensor scores = f32({3, 2, 5});
  expect_error([&] { ops->additive_scores(q, k, f32({3}), scores); }, kInvalid,
               {"TrainOps::additive_scores", "'v'", "[A]"});
  expect_error([&] { ops->additive_scores(q, f32({5, 2, 3}), v, scores); }, kInvalid, {"'keys'", "[S, B, A]"});
  Tensor dv = f32({5});
  expect_error([&] { ops->additive_scores_backward(q, k, v, scores, TensorView(), TensorView(), dv, false); },
               kInvalid, {"TrainOps::additive_scores_backward", "'dv'"});
  Tensor dq64 = f64({3, 2, 4});
  expect_error([&] { ops->additive_scores_backward(q, k, v, scores, dq64, TensorView(), TensorView(), false); },
               kInvalid, {"'dquery'", "f64"});
}

TEST_F(AttentionInvalidArgs, MaskScoresNamesLengthsAndExcluded) {
  Tensor scores = f32({2, 3, 4});
  const Tensor before = scores.clone();
  for (std::int32_t bad : {0, 5, -1}) {
    expect_error([&] { ops->mask_scores(scores, ids_tensor({4, bad, 2}), ConstTensorView()); }, kInvalid,
                 {"TrainOps::mask_scores", "'lengths'", "lengths[1] = " + std::to_string(bad), "[1, 4]"});
  }
  EXPECT_EQ(values(scores), values(before)) << "a bad length leaves scores untouched";
  expect_error([&] { ops->mask_scores(scores, ids_tensor({4, 2}), ConstTensorView()); }, kInvalid,
               {"'lengths'", "[B]"});
  expect_error([&] { ops->mask_scores(scores, ConstTensorView(), Tensor::zeros({2, 3, 4}, DType::i32)); }, kInvalid,
               {"'excluded'", "u8"});
  expect_error([&] { ops->mask_scores(scores, ConstTensorView(), Tensor::zeros({2, 3, 5}, DType::u8)); }, kInvalid,
               {"'excluded'", "[T, B, S]"});
  Tensor ints = Tensor::zeros({2, 3, 4}, DType::i32);
  expect_error([&] { ops->mask_scores(ints, ConstTensorView(), ConstTensorView()); }, kInvalid,
               {"'scores'", "f32 or f64"});
}

TEST_F(AttentionInvalidArgs, ElementwiseCallsNameTheArgument) {
  const Tensor x = f32({4, 5});
  Tensor y = f32({4, 6}), y64 = f64({4, 5});
  expect_error([&] { ops->softmax(x, y); }, kInvalid, {"TrainOps::softmax", "'y'", "[4, 6]"});
  expect_error([&] { ops->softmax(x, y64); }, kInvalid, {"TrainOps::softmax", "'y'", "f64"});
  expect_error([&] { ops->softmax_backward(x, f32({5, 4}), y); }, kInvalid, {"TrainOps::softmax_backward", "'dy'"});
  Tensor same = f32({4, 5});
  expect_error([&] { ops->softmax_backward(same, f32({4, 5}), same); }, kInvalid, {"'dx'", "overlaps", "'y'"});
  expect_error([&] { ops->tanh_forward(x, y); }, kInvalid, {"TrainOps::tanh_forward", "'y'"});
  expect_error([&] { ops->tanh_backward(x, x, y64); }, kInvalid, {"TrainOps::tanh_backward", "'dx'"});
  expect_error([&] { ops->add_scaled(x, 1.0, y); }, kInvalid, {"TrainOps::add_scaled", "'y'"});
  Tensor y_ok = f32({4, 5});
  expect_error([&] { ops->add_scaled(x, NAN, y_ok); }, kInvalid, {"TrainOps::add_scaled", "'alpha'"});
}

}  // namespace
}  // namespace gpurnn::testing
