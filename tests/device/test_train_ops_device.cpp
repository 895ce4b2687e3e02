// The TrainOps of the device under test (device_test_support.h: cuda:0, or a virtual device in CI)
// against the cpu TrainOps, f32 and f64: every call on the same random inputs
// (never zeros), outputs poisoned with NaN on both devices (an element a call forgets to write
// fails the comparison), overwrite and accumulate, empty optional outputs, ignore_index, masks,
// and the optimizers' updates over several steps. Both devices compute each element in double
// and round once, so element-wise results agree to a few ulps; products (cuBLAS vs OpenBLAS) and
// sums (another order) to the design's 1e-5 in f32; a virtual device computes with the cpu's
// code, so there everything must agree bit for bit. Skipped, with the reason, without a device.
// The CUDA stream test is tests/gpu/test_train_ops_stream_gpu.cpp.

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "device/device_ops_fixture.h"
#include "gpurnn/detail/dtype_dispatch.h"
#include "gpurnn/train/ops.h"
#include "test_support.h"

namespace gpurnn::testing {
namespace {

using train::LossSum;
using train::TrainOps;

Both ids(Shape shape, const std::vector<std::int32_t>& values) {
  return both(Tensor::from_host<std::int32_t>(shape, values.data()));
}
// `n` ids in [0, limit), repeating, with every `every`-th replaced by `special` (when every > 0).
std::vector<std::int32_t> id_values(std::int64_t n, std::int32_t limit, int every = 0,
                                    std::int32_t special = 0) {
  std::vector<std::int32_t> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    v[static_cast<std::size_t>(i)] = (every > 0 && i % every == every - 1)
                                         ? special
                                         : static_cast<std::int32_t>((i * 7 + 3) % limit);
  }
  return v;
}

using TrainOpsDevice = DeviceOpsTest<2024>;

TEST_P(TrainOpsDevice, LinearForwardWithAndWithoutBias) {
  const std::int64_t n = 7, in = 65, out = 33;
  Both x = random({n, in}, 1), w = random({out, in}, 2), b = random({out}, 3);
  for (bool with_bias : {true, false}) {
    SCOPED_TRACE(with_bias ? "bias" : "no bias");
    Both y = nan_filled({n, out});
    Both bias = with_bias ? b : none();
    cpu_->linear_forward(x.cpu, w.cpu, bias.cpu_view(), y.cpu);
    gpu_->linear_forward(x.gpu, w.gpu, bias.gpu_view(), y.gpu);
    expect_close(y, loose(), "y");
  }
}

TEST_P(TrainOpsDevice, LinearBackwardOverwriteAccumulateAndOmittedOutputs) {
  const std::int64_t n = 37, in = 19, out = 65;
  Both x = random({n, in}, 1), w = random({out, in}, 2), dy = random({n, out}, 3);
  for (bool accumulate : {false, true}) {
    for (bool omit : {false, true}) {
      SCOPED_TRACE(std::string(accumulate ? "accumulate" : "overwrite") + (omit ? ", no dx/db" : ""));
      Both dx = omit ? none() : nan_filled({n, in});
      Both dw = accumulate ? random({out, in}, 4) : nan_filled({out, in});
      Both db = omit ? none() : (accumulate ? random({out}, 5) : nan_filled({out}));
      cpu_->linear_backward(x.cpu, w.cpu, dy.cpu, dx.cpu_view(), dw.cpu, db.cpu_view(), accumulate);
      gpu_->linear_backward(x.gpu, w.gpu, dy.gpu, dx.gpu_view(), dw.gpu, db.gpu_view(), accumulate);
      if (!omit) expect_close(dx, loose(), "dx");
      expect_close(dw, loose(), "dw");
      if (!omit) expect_close(db, loose(), "db");
    }
  }
}

// N = 0: nothing to compute, but an overwritten dw and db are zeros (an empty sum).
// Host -> device -> device -> host on the ops' stream, element for element.
TEST_P(TrainOpsDevice, CopyBetweenHostAndDeviceOnTheStream) {
  const Tensor src = random_tensor({5, 7}, dt(), 2024, 40);
  Both a = nan_filled({35}), b = nan_filled({35});
  Tensor back = poisoned({35}, dt());
  gpu_->copy(src.view(), a.gpu.view());
  gpu_->copy(a.gpu.view(), b.gpu.view());
  gpu_->copy(b.gpu.view(), back.view());
  EXPECT_EQ(to_vector(back), to_vector(src));
}

TEST_P(TrainOpsDevice, LinearWithNoRows) {
  const std::int64_t in = 5, out = 3;
  Both x = random({0, in}, 1), w = random({out, in}, 2), dy = random({0, out}, 3);
  Both y = nan_filled({0, out}), dx = nan_filled({0, in});
  Both dw = nan_filled({out, in}), db = nan_filled({out});
  gpu_->linear_forward(x.gpu, w.gpu, TensorView(), y.gpu);
  cpu_->linear_backward(x.cpu, w.cpu, dy.cpu, dx.cpu, dw.cpu, db.cpu, false);
  gpu_->linear_backward(x.gpu, w.gpu, dy.gpu, dx.gpu, dw.gpu, db.gpu, false);
  EXPECT_EQ(to_vector(to_host(dw.gpu)), std::vector<double>(out * in, 0.0));
  EXPECT_EQ(to_vector(to_host(db.gpu)), std::vector<double>(out, 0.0));
  expect_close(dw, tight(), "dw");
}

TEST_P(TrainOpsDevice, EmbeddingForwardAndBackward) {
  const std::int64_t v = 11, e = 40, n = 57;  // ids repeat, so backward sums rows
  Both table = random({v, e}, 1), dy = random({n, e}, 2);
  Both id = ids({n}, id_values(n, static_cast<std::int32_t>(v)));
  Both y = nan_filled({n, e});
  cpu_->embedding_forward(table.cpu, id.cpu, y.cpu);
  gpu_->embedding_forward(table.gpu, id.gpu, y.gpu);
  EXPECT_EQ(to_vector(to_host(y.gpu)), to_vector(y.cpu)) << "a gather is exact";
  for (bool accumulate : {false, true}) {
    SCOPED_TRACE(accumulate ? "accumulate" : "overwrite");
    Both dtable = accumulate ? random({v, e}, 3) : nan_filled({v, e});
    cpu_->embedding_backward(id.cpu, dy.cpu, dtable.cpu, accumulate);
    gpu_->embedding_backward(id.gpu, dy.gpu, dtable.gpu, accumulate);
    expect_close(dtable, tight(), "dtable");  // atomics: another order of the same sums
  }
}

// On cuda an id out of range is not an error (the ids are on the device): its row is zeros
// forward and it adds nothing backward (gpurnn/train/ops.h). A virtual device runs the cpu's
// code, which refuses it.
TEST_P(TrainOpsDevice, EmbeddingIdOutOfRangeIsZerosOnCuda) {
  const std::int64_t v = 4, e = 3;
  Both table = random({v, e}, 1), dy = random({3, e}, 2);
  Both id = ids({3}, {-1, 2, 4});
  Both y = nan_filled({3, e}), dtable = nan_filled({v, e});
  if (test_device().kind != DeviceKind::cuda) {
    expect_error([&] { gpu_->embedding_forward(table.gpu, id.gpu, y.gpu); }, ErrorCode::invalid_argument, {"ids"});
    return;
  }
  gpu_->embedding_forward(table.gpu, id.gpu, y.gpu);
  gpu_->embedding_backward(id.gpu, dy.gpu, dtable.gpu, false);
  const std::vector<double> got = to_vector(to_host(y.gpu)), row = to_vector(table.cpu);
  const std::vector<double> dgot = to_vector(to_host(dtable.gpu)), dyv = to_vector(dy.cpu);
  for (int k = 0; k < e; ++k) {
    EXPECT_EQ(got[k], 0.0);
    EXPECT_EQ(got[e + k], row[2 * e + k]);
    EXPECT_EQ(got[2 * e + k], 0.0);
    EXPECT_EQ(dgot[2 * e + k], dyv[e + k]);
    for (int other : {0, 1, 3}) EXPECT_EQ(dgot[other * e + k], 0.0);
  }
}

TEST_P(TrainOpsDevice, DropoutMasksEqualTheCpuBitForBit) {
  const Shape shape{13, 29};
  Both x = random(shape, 1);
  for (double p : {0.0, 0.3, 0.9}) {
    SCOPED_TRACE("p=" + std::to_string(p));
    Both y = nan_filled(shape);
    cpu_->dropout_forward(x.cpu, p, 77, 5, y.cpu);
    gpu_->dropout_forward(x.gpu, p, 77, 5, y.gpu);
    EXPECT_EQ(to_vector(to_host(y.gpu)), to_vector(y.cpu));
    // Backward in place (dx aliases dy).
    Both d = random(shape, 2);
    cpu_->dropout_backward(d.cpu, p, 77, 5, d.cpu);
    gpu_->dropout_backward(d.gpu, p, 77, 5, d.gpu);
    EXPECT_EQ(to_vector(to_host(d.gpu)), to_vector(d.cpu));
  }
}

TEST_P(TrainOpsDevice, SoftmaxCrossEntropyWithIgnoredRows) {
  const std::int64_t n = 37, v = 300;  // v > 256 threads: each thread owns several classes
  constexpr std::int32_t kIgnore = -100;
  Both logits = random({n, v}, 1, 20.0);  // large logits: the max-subtraction matters
  Both target = ids({n}, id_values(n, static_cast<std::int32_t>(v), 4, kIgnore));
  for (bool with_grad : {true, false}) {
    SCOPED_TRACE(with_grad ? "with dlogits" : "evaluation");
    Both dlogits = with_grad ? nan_filled({n, v}) : none();
    const LossSum c = cpu_->softmax_cross_entropy(logits.cpu, target.cpu, kIgnore, 0.25, dlogits.cpu_view());
    const LossSum g = gpu_->softmax_cross_entropy(logits.gpu, target.gpu, kIgnore, 0.25, dlogits.gpu_view());
    EXPECT_EQ(g.count, c.count);
    EXPECT_EQ(c.count, n - n / 4);
    EXPECT_NEAR(g.sum, c.sum, tolerance(1e-12) * c.sum);
    if (with_grad) expect_close(dlogits, tight(), "dlogits");
  }
}

TEST_P(TrainOpsDevice, SoftmaxCrossEntropyTargetOutOfRangeIsError) {
  const std::int64_t n = 5, v = 7;
  Both logits = random({n, v}, 1);
  Both target = ids({n}, {0, 6, -1, 7, 2});  // -1 is the ignore index, 7 is out of range
  Both dlogits = nan_filled({n, v});
  expect_error([&] { gpu_->softmax_cross_entropy(logits.gpu, target.gpu, -1, 1.0, dlogits.gpu); },
               ErrorCode::invalid_argument, {"softmax_cross_entropy", "targets[3] = 7", "[0, 7)"});
}

TEST_P(TrainOpsDevice, MeanSquaredErrorWithAndWithoutMask) {
  const std::int64_t n = 45, d = 3;
  Both pred = random({n, d}, 1), target = random({n, d}, 2);
  Tensor mask_host = random_tensor({n}, dt(), 2024, 3);
  detail::visit_floating(dt(), [&](auto tag) {  // some rows masked out, some weighted
    using T = decltype(tag);
    T* m = mask_host.data_as<T>();
    for (std::int64_t r = 0; r < n; r += 3) m[r] = T(0);
  });
  Both mask = both(mask_host);
  for (bool masked : {true, false}) {
    for (bool with_grad : {true, false}) {
      SCOPED_TRACE(std::string(masked ? "masked" : "no mask") + (with_grad ? "" : ", evaluation"));
      Both m = masked ? mask : none();
      Both dpred = with_grad ? nan_filled({n, d}) : none();
      const LossSum c = cpu_->mean_squared_error(pred.cpu, target.cpu, m.cpu_view(), 0.5, dpred.cpu_view());
      const LossSum g = gpu_->mean_squared_error(pred.gpu, target.gpu, m.gpu_view(), 0.5, dpred.gpu_view());
      EXPECT_EQ(g.count, c.count);
      EXPECT_EQ(c.count, masked ? n - (n + 2) / 3 : n);
      EXPECT_NEAR(g.sum, c.sum, tolerance(1e-12) * c.sum);
      if (with_grad) expect_close(dpred, tight(), "dpred");
    }
  }
}

// 300001 elements: more than kMaxReduceBlocks * 256 threads, so every thread strides.
TEST_P(TrainOpsDevice, SumSquaresAndScale) {
  for (std::int64_t count : {1, 7, 300001}) {
    SCOPED_TRACE("count=" + std::to_string(count));
    Both x = random({count}, 1);
    const double c = cpu_->sum_squares(x.cpu);
    EXPECT_NEAR(gpu_->sum_squares(x.gpu), c, tolerance(1e-12) * c);
    cpu_->scale(x.cpu, -0.37);
    gpu_->scale(x.gpu, -0.37);
    expect_close(x, tight(), "scaled x");
  }
}

TEST_P(TrainOpsDevice, SgdUpdatesMatchOverSteps) {
  const Shape shape{17, 9};
  struct Case {
    const char* name;
    train::SgdHyper hyper;
  };
  const Case cases[] = {{"plain", {0.1, 0.0, 0.0, false}},
                        {"momentum", {0.1, 0.9, 0.0, false}},
                        {"nesterov+decay", {0.05, 0.8, 0.01, true}}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Both param = random(shape, 1), momentum = both(Tensor::zeros(shape, dt()));
    for (int step = 0; step < 3; ++step) {
      Both grad = random(shape, 10 + static_cast<std::uint64_t>(step));
      cpu_->sgd_update(param.cpu, grad.cpu, momentum.cpu, c.hyper);
      gpu_->sgd_update(param.gpu, grad.gpu, momentum.gpu, c.hyper);
    }
    expect_close(param, tight(), "param");
    expect_close(momentum, tight(), "momentum");
  }
}

TEST_P(TrainOpsDevice, AdamAndAdamWUpdatesMatchOverSteps) {
  const Shape shape{5, 31};
  for (bool decoupled : {false, true}) {
    SCOPED_TRACE(decoupled ? "AdamW" : "Adam");
    Both param = random(shape, 1);
    Both m = both(Tensor::zeros(shape, dt())), v = both(Tensor::zeros(shape, dt()));
    train::AdamHyper hyper;
    hyper.lr = 0.01;
    hyper.weight_decay = 0.1;
    hyper.decoupled = decoupled;
    for (std::int64_t step = 1; step <= 3; ++step) {
      hyper.step = step;
      Both grad = random(shape, 10 + static_cast<std::uint64_t>(step));
      cpu_->adam_update(param.cpu, grad.cpu, m.cpu, v.cpu, hyper);
      gpu_->adam_update(param.gpu, grad.gpu, m.gpu, v.gpu, hyper);
    }
    expect_close(param, tight(), "param");
    expect_close(m, tight(), "m");
    expect_close(v, tight(), "v");
  }
}

TEST_P(TrainOpsDevice, BadArgumentsReadAsOnCpu) {
  Both x = random({3, 4}, 1), w = random({5, 6}, 2), y = nan_filled({3, 5});
  expect_error([&] { gpu_->linear_forward(x.gpu, w.gpu, TensorView(), y.gpu); },
               ErrorCode::invalid_argument, {"TrainOps::linear_forward", "'w'", "[out, in]"});
  expect_error([&] { gpu_->linear_forward(x.cpu, w.cpu, TensorView(), y.cpu); },
               ErrorCode::invalid_argument, {"TrainOps::linear_forward", "'x'", to_string(test_device())});
}

INSTANTIATE_TEST_SUITE_P(Dtypes, TrainOpsDevice, ::testing::Values(DType::f32, DType::f64),
                         [](const ::testing::TestParamInfo<DType>& dtype_info) {
                           return std::string(to_string(dtype_info.param));
                         });

TEST(TrainOpsDeviceFactory, MissingDeviceIsUnsupported) {
  GPURNN_REQUIRE_DEVICE();
  const Device d = test_device();
  const Device missing{d.kind, d.kind == DeviceKind::cuda ? cuda_device_count() : virtual_device_count()};
  expect_error([&] { train::make_train_ops(missing); }, ErrorCode::unsupported, {"make_train_ops", to_string(missing)});
}

}  // namespace
}  // namespace gpurnn::testing
