// The training engine on the device under test (device_test_support.h: a CUDA device, or a
// virtual one in CI) against the cpu: the same model (same seeds) gives the same losses and
// gradients for every input and target kind, and a few trainer steps (batch upload, on CUDA on a
// second stream, clipping, Adam) follow the cpu's losses. On a virtual device: bit for bit.
#include <gtest/gtest.h>

#include "device/device_test_support.h"
#include "gpurnn/train/trainer.h"
#include "test_support.h"
#include "train/synthetic_task.h"

namespace gpurnn::testing {
namespace {

using train::InputKind;
using train::ModelInterface;
using train::TargetKind;

const ModelInterface kInterfaces[] = {
    {InputKind::tokens, 13, TargetKind::step_classes, 13},
    {InputKind::features, 3, TargetKind::step_values, 2},
    {InputKind::features, 4, TargetKind::final_classes, 5},
    {InputKind::tokens, 6, TargetKind::final_values, 1},
};

train::ModelConfig model_on(const ModelInterface& io, const std::string& backend) {
  train::ModelConfig m;
  m.io = io;
  m.hidden = 24;
  m.layers = 2;
  m.dropout = 0.1;
  m.backend = backend;
  m.seed = 5;
  return m;
}

class TrainDevice : public ::testing::TestWithParam<ModelInterface> {};

TEST_P(TrainDevice, ModelStepMatchesCpu) {
  GPURNN_REQUIRE_DEVICE();
  const ModelInterface io = GetParam();
  train::SequenceModel cpu(model_on(io, "cpu"));
  train::SequenceModel gpu(model_on(io, test_backend()));
  const train::Batch host = random_batch(io, 7, 5, 3, {1, 0, 1, 1, 0});
  train::RecurrentState carried_cpu, carried_gpu;
  cpu.eval_step(random_batch(io, 4, 5, 2), carried_cpu);
  gpu.eval_step(batch_on(random_batch(io, 4, 5, 2), gpu.device()), carried_gpu);
  const train::BatchSums a = cpu.train_step(host, carried_cpu, 11);
  const train::BatchSums b = gpu.train_step(batch_on(host, gpu.device()), carried_gpu, 11);
  EXPECT_EQ(a.count, b.count);
  EXPECT_NEAR(b.loss, a.loss, tolerance(1e-5) * std::abs(a.loss));
  const auto pc = cpu.parameters();
  const auto pg = gpu.parameters();
  for (std::size_t k = 0; k < pc.size(); ++k) {
    EXPECT_LE(relative_error(to_host(pg[k].grad), pc[k].grad), tolerance(1e-4)) << pc[k].name;
  }
  EXPECT_LE(relative_error(to_host(carried_gpu.h), carried_cpu.h), tolerance(1e-5));
}

INSTANTIATE_TEST_SUITE_P(Train, TrainDevice, ::testing::ValuesIn(kInterfaces));

TEST(TrainDeviceTrainer, StepsFollowTheCpu) {
  GPURNN_REQUIRE_DEVICE();
  const ModelInterface io = kInterfaces[0];
  const RandomTask task(io, 6, 4);
  train::TrainConfig c;
  c.steps = 6;
  c.schedule.base_lr = 1e-2;
  c.clip = 0.5;
  train::SequenceModel cpu(model_on(io, "cpu"));
  train::SequenceModel gpu(model_on(io, test_backend()));
  train::Trainer tc(task, cpu, c);
  train::Trainer tg(task, gpu, c);
  std::vector<double> lc, lg;
  tc.run([&](const train::StepLog& s) { lc.push_back(s.loss); });
  tg.run([&](const train::StepLog& s) { lg.push_back(s.loss); });
  ASSERT_EQ(lc.size(), lg.size());
  for (std::size_t i = 0; i < lc.size(); ++i) EXPECT_NEAR(lg[i], lc[i], tolerance(1e-4) * std::abs(lc[i])) << i;
  EXPECT_NEAR(tg.evaluate().mean_loss, tc.evaluate().mean_loss, tolerance(1e-4) * tc.evaluate().mean_loss);
}

}  // namespace
}  // namespace gpurnn::testing
