// The gradient all-reduce of data-parallel training (src/train/gradient_allreduce.h) over an
// in-process stand-in for two ranks: the loss sum and the target count come back exact however
// the gradients are stored, and the gradients are the count-weighted mean over the ranks.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

#include "gpurnn/train/communicator.h"
#include "gpurnn/train/ops.h"
#include "test_support.h"
#include "train/gradient_allreduce.h"

namespace gpurnn::testing {
namespace {

// Rank 0 of two whose peer holds the same data as this rank: every all-reduce doubles the data,
// in its own dtype (exact: a power of two), on the host.
class MirroredPair final : public train::Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 2; }
  int local_rank() const override { return 0; }
  std::string name() const override { return "mirrored pair"; }
  void allreduce_sum(TensorView data, void*) override {
    EXPECT_TRUE(data.device().is_cpu());
    if (data.dtype() == DType::f64) {
      double* v = data.data_as<double>();
      for (std::int64_t i = 0; i < data.numel(); ++i) v[i] += v[i];
    } else {
      ASSERT_EQ(data.dtype(), DType::f32);
      float* v = data.data_as<float>();
      for (std::int64_t i = 0; i < data.numel(); ++i) v[i] += v[i];
    }
  }
  void broadcast(TensorView, int, void*) override {}
  [[noreturn]] void abort(const std::string& message) override {
    throw Error(ErrorCode::internal, "MirroredPair::abort: " + message);
  }
};

// A count of 2^24 + 1 is not an f32 (nor is the loss sum below): sent in the gradients' f32,
// they came back as 2^25 and a rounded loss. Reduced in f64, both are exact.
TEST(GradientAllreduce, F32GradientsKeepTheLossAndCountExact) {
  MirroredPair comm;
  const std::unique_ptr<train::TrainOps> ops = train::make_train_ops(Device::cpu());
  train::Parameter p;
  p.name = "w";
  p.value = random_tensor(Shape{5}, DType::f32, 7, 0);
  p.grad = random_tensor(Shape{5}, DType::f32, 7, 1);
  const Tensor local_grad = p.grad.to(DType::f64);
  train::GradientAllreduce allreduce(comm, *ops, {p});

  train::BatchSums local;
  local.count = (std::int64_t{1} << 24) + 1;
  local.loss = 0.75 * static_cast<double>(local.count);  // 12582912.75: 26 significant bits
  const train::BatchSums global = allreduce.reduce(local, nullptr);

  EXPECT_EQ(global.count, 2 * local.count);
  EXPECT_EQ(global.loss, 2 * local.loss);
  // Both ranks hold the same gradient, so their weighted mean is that gradient (to f32 rounding).
  const Tensor reduced = p.grad.to(DType::f64);
  for (std::int64_t i = 0; i < 5; ++i) {
    const double want = local_grad.data_as<double>()[i];
    EXPECT_NEAR(reduced.data_as<double>()[i], want, 1e-6 * std::abs(want)) << "element " << i;
  }
}

}  // namespace
}  // namespace gpurnn::testing
