// The cuda TrainOps queue every call on the stream given to set_stream: here a non-blocking one,
// which the legacy stream does not order with, so work left on another stream would be caught.
// (Every call's values against the cpu: tests/device/test_train_ops_device.cpp.) Skipped, with
// the reason, without a GPU.

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "gpu_test_support.h"
#include "gpurnn/train/ops.h"
#include "test_support.h"

namespace gpurnn::testing {
namespace {

class TrainOpsStreamGpu : public ::testing::TestWithParam<DType> {};

TEST_P(TrainOpsStreamGpu, HonoursANonBlockingStream) {
  GPURNN_REQUIRE_GPU();
  const DType dt = GetParam();
  const double loose = dt == DType::f32 ? 1e-5 : 1e-12;
  auto cpu = train::make_train_ops(Device::cpu());
  auto gpu = train::make_train_ops(Device::cuda(0));
  const std::int64_t n = 33, in = 17, v = 40;
  std::vector<std::int32_t> targets(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) targets[static_cast<std::size_t>(i)] = static_cast<std::int32_t>((i * 7 + 3) % v);
  Both x = both(random_tensor({n, in}, dt, 2024, 1)), w = both(random_tensor({v, in}, dt, 2024, 2));
  Both y = both(poisoned({n, v}, dt)), dy = both(poisoned({n, v}, dt)), dw = both(poisoned({v, in}, dt));
  Both target = both(Tensor::from_host<std::int32_t>({n}, targets.data()));
  cudaStream_t stream = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
  gpu->set_stream(stream);
  cpu->linear_forward(x.cpu, w.cpu, TensorView(), y.cpu);
  gpu->linear_forward(x.gpu, w.gpu, TensorView(), y.gpu);
  const train::LossSum c = cpu->softmax_cross_entropy(y.cpu, target.cpu, -1, 1.0, dy.cpu);
  const train::LossSum g = gpu->softmax_cross_entropy(y.gpu, target.gpu, -1, 1.0, dy.gpu);
  cpu->linear_backward(x.cpu, w.cpu, dy.cpu, TensorView(), dw.cpu, TensorView(), false);
  gpu->linear_backward(x.gpu, w.gpu, dy.gpu, TensorView(), dw.gpu, TensorView(), false);
  const double norm = gpu->sum_squares(dw.gpu);  // synchronises the stream
  ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  ASSERT_EQ(cudaStreamDestroy(stream), cudaSuccess);
  gpu->set_stream(nullptr);
  EXPECT_EQ(g.count, c.count);
  EXPECT_NEAR(g.sum, c.sum, loose * c.sum);
  EXPECT_LT(relative_error(to_host(dw.gpu), dw.cpu), loose);
  EXPECT_NEAR(norm, cpu->sum_squares(dw.cpu), 10 * loose * norm);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, TrainOpsStreamGpu, ::testing::Values(DType::f32, DType::f64),
                         [](const ::testing::TestParamInfo<DType>& i) { return std::string(to_string(i.param)); });

}  // namespace
}  // namespace gpurnn::testing
