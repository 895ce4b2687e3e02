// The attention calls of the device under test's TrainOps (device_test_support.h) against the cpu ones (which tests/train/
// test_attention_ops_reference.cpp checks against naive loops), f32 and f64, on the same random
// inputs: outputs poisoned with NaN on both devices, overwrite and accumulate, omitted optional
// outputs, the in-place forms, masking by lengths and excluded, softmax rows with -infinity
// entries and an all -infinity row. Sizes include batch 1, a single query and sizes past one
// warp (S = 65) so partial warps and blocks are exercised. Skipped, with the reason, without a device.

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "device/device_ops_fixture.h"
#include "gpurnn/detail/dtype_dispatch.h"
#include "gpurnn/train/ops.h"
#include "test_support.h"

namespace gpurnn::testing {
namespace {

using train::TrainOps;


struct Dims {
  std::int64_t t, b, s, d;
};
const Dims kDims[] = {{5, 3, 7, 9}, {1, 4, 65, 33}, {6, 1, 3, 2}};

std::string name(const Dims& n) {
  return "T" + std::to_string(n.t) + " B" + std::to_string(n.b) + " S" + std::to_string(n.s) + " D" +
         std::to_string(n.d);
}

class AttentionOpsDevice : public DeviceOpsTest<4242> {
 protected:
  // Both copies of a host tensor with some elements set to -infinity.
  Both with_minus_inf(Tensor host, const std::vector<std::int64_t>& at) const {
    detail::visit_floating(dt(), [&](auto tag) {
      using T = decltype(tag);
      for (std::int64_t i : at) host.data_as<T>()[i] = -std::numeric_limits<T>::infinity();
    });
    return both(host);
  }
};

TEST_P(AttentionOpsDevice, DotProductScoresForwardAndBackward) {
  for (const Dims& n : kDims) {
    SCOPED_TRACE(name(n));
    Both q = random({n.t, n.b, n.d}, 1), k = random({n.s, n.b, n.d}, 2), ds = random({n.t, n.b, n.s}, 3);
    Both scores = nan_filled({n.t, n.b, n.s});
    cpu_->attention_scores(q.cpu, k.cpu, scores.cpu);
    gpu_->attention_scores(q.gpu, k.gpu, scores.gpu);
    expect_close(scores, loose(), "scores");
    for (bool accumulate : {false, true}) {
      for (bool omit_keys : {false, true}) {
        SCOPED_TRACE(std::string(accumulate ? "accumulate" : "overwrite") + (omit_keys ? ", no dkeys" : ""));
        Both dq = accumulate ? random({n.t, n.b, n.d}, 4) : nan_filled({n.t, n.b, n.d});
        Both dk = omit_keys ? none() : (accumulate ? random({n.s, n.b, n.d}, 5) : nan_filled({n.s, n.b, n.d}));
        cpu_->attention_scores_backward(q.cpu, k.cpu, ds.cpu, dq.cpu, dk.cpu_view(), accumulate);
        gpu_->attention_scores_backward(q.gpu, k.gpu, ds.gpu, dq.gpu, dk.gpu_view(), accumulate);
        expect_close(dq, loose(), "dquery");
        if (!omit_keys) expect_close(dk, loose(), "dkeys");
      }
    }
    Both dk = nan_filled({n.s, n.b, n.d});  // dquery omitted
    cpu_->attention_scores_backward(q.cpu, k.cpu, ds.cpu, TensorView(), dk.cpu, false);
    gpu_->attention_scores_backward(q.gpu, k.gpu, ds.gpu, TensorView(), dk.gpu, false);
    expect_close(dk, loose(), "dkeys (dquery omitted)");
  }
}

TEST_P(AttentionOpsDevice, ContextForwardAndBackward) {
  for (const Dims& n : kDims) {
    SCOPED_TRACE(name(n));
    Both w = random({n.t, n.b, n.s}, 1), v = random({n.s, n.b, n.d}, 2), dc = random({n.t, n.b, n.d}, 3);
    Both context = nan_filled({n.t, n.b, n.d});
    cpu_->attention_context(w.cpu, v.cpu, context.cpu);
    gpu_->attention_context(w.gpu, v.gpu, context.gpu);
    expect_close(context, loose(), "context");
    for (bool accumulate : {false, true}) {
      SCOPED_TRACE(accumulate ? "accumulate" : "overwrite");
      Both dw = nan_filled({n.t, n.b, n.s});  // always overwritten
      Both dv = accumulate ? random({n.s, n.b, n.d}, 4) : nan_filled({n.s, n.b, n.d});
      cpu_->attention_context_backward(w.cpu, v.cpu, dc.cpu, dw.cpu, dv.cpu, accumulate);
      gpu_->attention_context_backward(w.gpu, v.gpu, dc.gpu, dw.gpu, dv.gpu, accumulate);
      expect_close(dw, loose(), "dweights");
      expect_close(dv, loose(), "dvalues");
    }
    Both dw = nan_filled({n.t, n.b, n.s});  // dvalues omitted
    cpu_->attention_context_backward(w.cpu, v.cpu, dc.cpu, dw.cpu, TensorView(), true);
    gpu_->attention_context_backward(w.gpu, v.gpu, dc.gpu, dw.gpu, TensorView(), true);
    expect_close(dw, loose(), "dweights (dvalues omitted)");
  }
}

TEST_P(AttentionOpsDevice, AdditiveScoresForwardAndBackward) {
  for (const Dims& n : kDims) {
    SCOPED_TRACE(name(n));
    Both q = random({n.t, n.b, n.d}, 1), k = random({n.s, n.b, n.d}, 2), v = random({n.d}, 3);
    Both ds = random({n.t, n.b, n.s}, 4);
    Both scores = nan_filled({n.t, n.b, n.s});
    cpu_->additive_scores(q.cpu, k.cpu, v.cpu, scores.cpu);
    gpu_->additive_scores(q.gpu, k.gpu, v.gpu, scores.gpu);
    expect_close(scores, loose(), "scores");
    for (bool accumulate : {false, true}) {
      SCOPED_TRACE(accumulate ? "accumulate" : "overwrite");
      Both dq = accumulate ? random({n.t, n.b, n.d}, 5) : nan_filled({n.t, n.b, n.d});
      Both dk = accumulate ? random({n.s, n.b, n.d}, 6) : nan_filled({n.s, n.b, n.d});
      Both dv = accumulate ? random({n.d}, 7) : nan_filled({n.d});
      cpu_->additive_scores_backward(q.cpu, k.cpu, v.cpu, ds.cpu, dq.cpu, dk.cpu, dv.cpu, accumulate);
      gpu_->additive_scores_backward(q.gpu, k.gpu, v.gpu, ds.gpu, dq.gpu, dk.gpu, dv.gpu, accumulate);
      expect_close(dq, loose(), "dquery");
      expect_close(dk, loose(), "dkeys");
      expect_close(dv, loose(), "dv");
    }
    Both dv = nan_filled({n.d});  // dquery and dkeys omitted
    cpu_->additive_scores_backward(q.cpu, k.cpu, v.cpu, ds.cpu, TensorView(), TensorView(), dv.cpu, false);
    gpu_->additive_scores_backward(q.gpu, k.gpu, v.gpu, ds.gpu, TensorView(), TensorView(), dv.gpu, false);
    expect_close(dv, loose(), "dv alone");
  }
}

TEST_P(AttentionOpsDevice, MaskScoresThenSoftmaxAndBackward) {
  const std::int64_t t = 4, b = 3, s = 65;
  const std::vector<std::int32_t> lens = {65, 1, 40};
  std::vector<std::uint8_t> ex(static_cast<std::size_t>(t * b * s), 0);
  for (std::size_t i = 0; i < ex.size(); ++i) ex[i] = i % 7 == 3 ? 1 : 0;
  for (std::int64_t j = 0; j < s; ++j) ex[static_cast<std::size_t>((2 * b + 0) * s + j)] = 1;  // (t=2, b=0): all masked
  Both lengths = both(Tensor::from_host<std::int32_t>({b}, lens.data()));
  Both excluded = both(Tensor::from_host<std::uint8_t>({t, b, s}, ex.data()));
  for (int mode = 0; mode < 4; ++mode) {  // 0: neither, 1: lengths, 2: excluded, 3: both
    SCOPED_TRACE("mask mode " + std::to_string(mode));
    Both scores = random({t, b, s}, 1);
    Both len = mode & 1 ? lengths : none(), exc = mode & 2 ? excluded : none();
    cpu_->mask_scores(scores.cpu, len.cpu_view(), exc.cpu_view());
    gpu_->mask_scores(scores.gpu, len.gpu_view(), exc.gpu_view());
    EXPECT_EQ(to_vector(to_host(scores.gpu)), to_vector(scores.cpu)) << "masked scores";
    // Softmax over the masked rows, out of place and in place (y == x).
    Both y = nan_filled({t, b, s});
    cpu_->softmax(scores.cpu, y.cpu);
    gpu_->softmax(scores.gpu, y.gpu);
    expect_close(y, tight(), "softmax y");
    gpu_->softmax(scores.gpu, scores.gpu);
    EXPECT_LT(relative_error(to_host(scores.gpu), y.cpu), tight()) << "softmax in place";
    Both dy = random({t, b, s}, 2);
    Both dx = nan_filled({t, b, s});
    cpu_->softmax_backward(y.cpu, dy.cpu, dx.cpu);
    gpu_->softmax_backward(y.gpu, dy.gpu, dx.gpu);
    expect_close(dx, tight(), "softmax dx");
    gpu_->softmax_backward(y.gpu, dy.gpu, dy.gpu);
    EXPECT_LT(relative_error(to_host(dy.gpu), dx.cpu), tight()) << "softmax dx in place on dy";
  }
}

TEST_P(AttentionOpsDevice, SoftmaxRowsWithMinusInfinityAndLongRows) {
  // [N, S] with S past several warps' strides; row 1 has scattered -inf, row 2 is all -inf.
  const std::int64_t rows = 9, s = 300;
  std::vector<std::int64_t> masked = {s + 0, s + 31, s + 32, s + 299};
  for (std::int64_t j = 0; j < s; ++j) masked.push_back(2 * s + j);
  Both x = with_minus_inf(random_tensor({rows, s}, dt(), 4242, 9, 8.0), masked);
  Both y = nan_filled({rows, s});
  cpu_->softmax(x.cpu, y.cpu);
  gpu_->softmax(x.gpu, y.gpu);
  expect_close(y, tight(), "y");
  const std::vector<double> gpu_y = to_vector(to_host(y.gpu));
  for (std::int64_t j = 0; j < s; ++j) ASSERT_EQ(gpu_y[static_cast<std::size_t>(2 * s + j)], 0.0) << "all -inf row";
}

TEST_P(AttentionOpsDevice, TanhAndAddScaled) {
  Both x = random({7, 3, 65}, 1), dy = random({7, 3, 65}, 2);
  Both y = nan_filled({7, 3, 65});
  cpu_->tanh_forward(x.cpu, y.cpu);
  gpu_->tanh_forward(x.gpu, y.gpu);
  expect_close(y, tight(), "tanh y");
  Both dx = nan_filled({7, 3, 65});
  cpu_->tanh_backward(y.cpu, dy.cpu, dx.cpu);
  gpu_->tanh_backward(y.gpu, dy.gpu, dx.gpu);
  expect_close(dx, tight(), "tanh dx");
  gpu_->tanh_backward(y.gpu, dy.gpu, dy.gpu);
  EXPECT_LT(relative_error(to_host(dy.gpu), dx.cpu), tight()) << "tanh dx in place on dy";
  gpu_->tanh_forward(x.gpu, x.gpu);
  EXPECT_LT(relative_error(to_host(x.gpu), y.cpu), tight()) << "tanh y in place";

  Both a = random({5, 13}, 3), acc = random({5, 13}, 4);
  cpu_->add_scaled(a.cpu, -0.625, acc.cpu);
  gpu_->add_scaled(a.gpu, -0.625, acc.gpu);
  expect_close(acc, tight(), "add_scaled y");
}

TEST_P(AttentionOpsDevice, BadArgumentsReadAsOnCpu) {
  Both q = random({3, 2, 4}, 1), k = random({5, 3, 4}, 2), scores = nan_filled({3, 2, 5});
  expect_error([&] { gpu_->attention_scores(q.gpu, k.gpu, scores.gpu); }, ErrorCode::invalid_argument,
               {"TrainOps::attention_scores", "'keys'", "[S, B, D]"});
  expect_error([&] { gpu_->softmax(q.cpu, q.gpu); }, ErrorCode::invalid_argument, {"TrainOps::softmax", "'x'", "cpu"});
}

INSTANTIATE_TEST_SUITE_P(Dtypes, AttentionOpsDevice, ::testing::Values(DType::f32, DType::f64),
                         [](const ::testing::TestParamInfo<DType>& i) { return to_string(i.param); });

}  // namespace
}  // namespace gpurnn::testing
