// The virtual devices themselves (gpurnn/device.h, src/virtual): their memory traps host code,
// starts poisoned and copies exactly; their calls refuse memory of the host or of another device
// and lengths that are not on the host; their uploader really copies and keeps the lengths on the
// host; the RNN module and the batch path of a model give the cpu's results bit for bit. Skipped
// unless the process has two virtual devices (CTest sets GPURNN_VIRTUAL_DEVICES=2).

#include <gtest/gtest.h>

#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "gpurnn/gpurnn.h"
#include "gpurnn/train/model.h"
#include "gpurnn/train/ops.h"
#include "platform/batch_uploader.h"
#include "device/device_test_support.h"
#include "test_support.h"
#include "train/synthetic_task.h"

namespace gpurnn::testing {
namespace {

const Device kV0 = Device::virtual_device(0);
const Device kV1 = Device::virtual_device(1);

Tensor host_bytes(const Tensor& t) { return t.to(Device::cpu()); }

TEST(VirtualDeviceDeathTest, HostCodeReadingDeviceMemoryDies) {
  GPURNN_REQUIRE_VIRTUAL_DEVICES();
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const Tensor t = Tensor::zeros({16}, DType::f32, kV1);
  // What host code that forgets the device would do: read through the device pointer.
  EXPECT_EXIT(
      {
        volatile float v = static_cast<const volatile float*>(t.data())[3];
        (void)v;
        std::exit(0);
      },
      ::testing::KilledBySignal(SIGSEGV), "");
  EXPECT_EXIT(
      {
        static_cast<volatile float*>(const_cast<void*>(t.data()))[0] = 1.0f;
        std::exit(0);
      },
      ::testing::KilledBySignal(SIGSEGV), "");
  // The same bytes read through the device's own copy are there.
  EXPECT_EQ(host_bytes(t).data_as<float>()[3], 0.0f);
}

TEST(VirtualDevice, NewMemoryIsPoisonedAndCopiesAreExact) {
  GPURNN_REQUIRE_VIRTUAL_DEVICES();
  const Tensor fresh = Tensor::empty({5}, DType::i32, kV1);
  const Tensor seen = host_bytes(fresh);
  for (std::int64_t i = 0; i < 5; ++i) EXPECT_EQ(seen.data_as<std::int32_t>()[i], -1) << i;  // 0xFF bytes
  const Tensor x = numbered({3, 7}, DType::f64);
  const Tensor there = x.to(kV1);
  EXPECT_EQ(there.device(), kV1);
  const Tensor across = there.to(kV0);  // device to device
  EXPECT_EQ(std::memcmp(host_bytes(across).data(), x.data(), x.bytes()), 0);
  Tensor z = there.clone();
  z.fill(0.0);
  EXPECT_EQ(relative_error(host_bytes(z), Tensor::zeros({3, 7}, DType::f64)), 0.0);
  z.fill(2.5);
  EXPECT_EQ(host_bytes(z).data_as<double>()[20], 2.5);
}

// Tensor::to between f32 and bf16/f16 on a device converts there (DeviceStorage::convert_half,
// mixed precision's hot path): the same bits as the host's conversion, both ways, specials too.
TEST(VirtualDevice, HalfConversionsOnTheDeviceEqualTheHosts) {
  GPURNN_REQUIRE_VIRTUAL_DEVICES();
  Tensor x = random_tensor({4, 33}, DType::f32, 7, 1, 1e3);
  float* v = x.data_as<float>();
  v[0] = 1.0F + 1.0F / 256.0F;  // a bf16 tie: to even
  v[1] = 65520.0F;              // past f16's largest finite: infinity
  v[2] = -0.0F;
  v[3] = 1e-7F;                 // an f16 subnormal
  for (DType half : {DType::bf16, DType::f16}) {
    SCOPED_TRACE(to_string(half));
    const Tensor on_host = x.to(half);
    const Tensor on_device = x.to(kV1).to(half);
    ASSERT_EQ(on_device.device(), kV1);
    EXPECT_EQ(std::memcmp(host_bytes(on_device).data(), on_host.data(), on_host.bytes()), 0);
    const Tensor back = on_device.to(DType::f32);
    EXPECT_EQ(std::memcmp(host_bytes(back).data(), on_host.to(DType::f32).data(), x.bytes()), 0);
  }
}

TEST(VirtualDevice, UnknownIndexOrNoDevicesIsUnsupported) {
  GPURNN_REQUIRE_VIRTUAL_DEVICES();
  expect_error([] { make_backend("virtual:9"); }, ErrorCode::unsupported, {"virtual:9", "GPURNN_VIRTUAL_DEVICES"});
  expect_error([] { (void)Tensor::empty({2}, DType::f32, Device::virtual_device(64)); }, ErrorCode::unsupported,
               {"virtual:64", "not available"});
  EXPECT_EQ(make_backend("virtual:1")->device(), kV1);
  EXPECT_EQ(make_backend("virtual")->device(), kV0);
}

// A device call given host memory tagged as the device's, or another device's memory, fails
// naming the call instead of reading it (on a GPU: a crash or silent garbage).
TEST(VirtualDevice, CallsRefuseMemoryOfTheHostOrAnotherDevice) {
  GPURNN_REQUIRE_VIRTUAL_DEVICES();
  auto ops = train::make_train_ops(kV1);
  Tensor host = random_tensor({4, 3}, DType::f32, 1, 1);
  const TensorView disguised(host.data(), host.shape(), host.dtype(), kV1);
  Tensor out = Tensor::empty({4, 3}, DType::f32, kV1);
  expect_error([&] { ops->tanh_forward(disguised, out.view()); }, ErrorCode::internal,
               {"no live allocation of a virtual device", "virtual:1"});
  Tensor other = host.to(kV0);
  const TensorView wrong_device(other.data(), other.shape(), other.dtype(), kV1);
  expect_error([&] { ops->tanh_forward(wrong_device, out.view()); }, ErrorCode::internal, {"memory of virtual:0"});
  expect_error([&] { ops->tanh_forward(other.view(), out.view()); }, ErrorCode::invalid_argument, {"virtual:0"});
}

// The Backend contract: lengths on the host. Lengths on the device are refused naming them (the
// first CUDA training run would have stopped there: issue 29).
TEST(VirtualDevice, BackendWantsLengthsOnTheHost) {
  GPURNN_REQUIRE_VIRTUAL_DEVICES();
  RNNDescriptor d;
  d.cell = CellKind::gru;
  d.input_size = 3;
  d.hidden_size = 4;
  RNN rnn(d, DType::f32, "virtual:1", 3);
  const std::int32_t len[] = {2, 1};
  SequenceInputs in;
  in.lengths = Tensor::from_host<std::int32_t>({2}, len);
  const Tensor x = random_tensor({2, 2, 3}, DType::f32, 2, 1).to(kV1);
  EXPECT_NO_THROW(rnn.forward(x, in));
  in.lengths = in.lengths.to(kV1);
  expect_error([&] { rnn.forward(x, in); }, ErrorCode::invalid_argument, {"lengths"});
}

// Half precision on a device (issue 31): the half calls' host plumbing — widening into the
// device workspace, rounding by the rule, narrowing the results, the weight gradients in f32, and
// the widened copy of prepared weights — gives the cpu's bf16 and f16 results bit for bit, for
// every cell, with a projection, ragged and bidirectional.
TEST(VirtualDevice, HalfRnnModuleEqualsCpuBitForBit) {
  GPURNN_REQUIRE_VIRTUAL_DEVICES();
  for (DType half : {DType::bf16, DType::f16}) {
    for (CellKind cell : {CellKind::lstm, CellKind::gru, CellKind::rnn_relu}) {
      for (std::int64_t proj : {0, 3}) {
        if (proj != 0 && cell != CellKind::lstm) continue;
        SCOPED_TRACE(std::string(to_string(half)) + " " + to_string(cell) + " proj " + std::to_string(proj));
        RNNDescriptor d;
        d.cell = cell;
        d.input_size = 5;
        d.hidden_size = 6;
        d.proj_size = proj;
        d.num_layers = 2;
        d.bidirectional = true;
        d.dropout = 0.25;
        RNN cpu(d, half, "cpu", 9), dev(d, half, "virtual:1", 9);
        const std::int32_t len[] = {4, 2, 3};
        SequenceInputs in;
        in.lengths = Tensor::from_host<std::int32_t>({3}, len);
        const Tensor x = random_tensor({4, 3, 5}, half, 3, 1);
        const RNNOutput a = cpu.forward_train(x, in, 7);
        const RNNOutput b = dev.forward_train(x.to(kV1), in, 7);
        ASSERT_EQ(b.y.dtype(), half);
        EXPECT_EQ(relative_error(host_bytes(b.y), a.y), 0.0);
        EXPECT_EQ(relative_error(host_bytes(b.hn), a.hn), 0.0);
        const Tensor dy = random_tensor(a.y.shape(), half, 4, 1);
        const RNNGradients ga = cpu.backward(dy);
        const RNNGradients gb = dev.backward(dy.to(kV1));
        EXPECT_EQ(relative_error(host_bytes(gb.dx), ga.dx), 0.0);
        EXPECT_EQ(gb.dweights.dtype(), DType::f32);
        EXPECT_EQ(relative_error(host_bytes(gb.dweights.flat()), ga.dweights.flat()), 0.0);
        // Inference on prepared weights (their widened copy made on the device).
        const RNNOutput pa = cpu.forward(x, in);
        const RNNOutput pb = dev.forward(x.to(kV1), in);
        EXPECT_NE(dev.prepared_weights(), nullptr);
        EXPECT_EQ(relative_error(host_bytes(pb.y), pa.y), 0.0);
      }
    }
  }
}

TEST(VirtualDevice, RnnModuleEqualsCpuBitForBit) {
  GPURNN_REQUIRE_VIRTUAL_DEVICES();
  for (CellKind cell : {CellKind::lstm, CellKind::gru, CellKind::rnn_tanh}) {
    SCOPED_TRACE(to_string(cell));
    RNNDescriptor d;
    d.cell = cell;
    d.input_size = 5;
    d.hidden_size = 6;
    d.num_layers = 2;
    d.bidirectional = true;
    d.dropout = 0.25;
    RNN cpu(d, DType::f32, "cpu", 9), dev(d, DType::f32, "virtual:1", 9);
    const std::int32_t len[] = {4, 2, 3};
    SequenceInputs in;
    in.lengths = Tensor::from_host<std::int32_t>({3}, len);
    const Tensor x = random_tensor({4, 3, 5}, DType::f32, 3, 1);
    const RNNOutput a = cpu.forward_train(x, in, 7);
    const RNNOutput b = dev.forward_train(x.to(kV1), in, 7);
    EXPECT_EQ(relative_error(host_bytes(b.y), a.y), 0.0);
    EXPECT_EQ(relative_error(host_bytes(b.hn), a.hn), 0.0);
    const Tensor dy = random_tensor(a.y.shape(), DType::f32, 4, 1);
    const RNNGradients ga = cpu.backward(dy);
    const RNNGradients gb = dev.backward(dy.to(kV1));
    EXPECT_EQ(relative_error(host_bytes(gb.dx), ga.dx), 0.0);
    EXPECT_EQ(relative_error(host_bytes(gb.dweights.flat()), ga.dweights.flat()), 0.0);
    // Inference on prepared weights, kept between calls.
    EXPECT_EQ(relative_error(host_bytes(dev.forward(x.to(kV1), in).y), cpu.forward(x, in).y), 0.0);
    EXPECT_EQ(relative_error(host_bytes(dev.forward(x.to(kV1), in).y), cpu.forward(x, in).y), 0.0);
  }
}

// The uploader copies inputs and targets to the device (host code cannot read them there), keeps
// the lengths on the host for the Backend calls, and puts a device copy beside them.
TEST(VirtualDevice, UploaderCopiesAndKeepsTheLengthsOnTheHost) {
  GPURNN_REQUIRE_VIRTUAL_DEVICES();
  const train::ModelInterface io{train::InputKind::tokens, 9, train::TargetKind::step_classes, 9};
  const train::Batch host = random_batch(io, 6, 4, 2, {1, 0, 1, 0});
  auto uploader = train::make_batch_uploader(kV1);
  uploader->begin(host);
  const train::Batch b = uploader->finish(nullptr);
  EXPECT_EQ(b.inputs.device(), kV1);
  EXPECT_EQ(b.targets.device(), kV1);
  EXPECT_NE(b.inputs.data(), host.inputs.data());
  EXPECT_EQ(b.lengths.device(), Device::cpu());
  EXPECT_EQ(b.device_lengths.device(), kV1);
  EXPECT_EQ(std::memcmp(host_bytes(b.inputs).data(), host.inputs.data(), host.inputs.bytes()), 0);
  EXPECT_EQ(std::memcmp(host_bytes(b.targets).data(), host.targets.data(), host.targets.bytes()), 0);
  EXPECT_EQ(std::memcmp(host_bytes(b.device_lengths).data(), host.lengths.data(), host.lengths.bytes()), 0);
  EXPECT_EQ(b.carry_state, host.carry_state);
  train::Batch already_there = host;
  already_there.inputs = host.inputs.to(kV1);
  expect_error([&] { uploader->begin(already_there); }, ErrorCode::invalid_argument, {"host.inputs", "virtual:1"});
}

// Every input and target kind through the uploader, ragged rows included: the device's training
// and evaluation steps give the cpu's losses, gradients and carried state bit for bit.
TEST(VirtualDevice, ModelStepsThroughTheUploaderEqualCpu) {
  GPURNN_REQUIRE_VIRTUAL_DEVICES();
  const train::ModelInterface interfaces[] = {
      {train::InputKind::tokens, 13, train::TargetKind::step_classes, 13},
      {train::InputKind::features, 3, train::TargetKind::step_values, 2},
      {train::InputKind::features, 4, train::TargetKind::final_classes, 5},
      {train::InputKind::tokens, 6, train::TargetKind::final_values, 1},
  };
  for (const train::ModelInterface& io : interfaces) {
    SCOPED_TRACE(train::to_string(io.target));
    train::ModelConfig m;
    m.io = io;
    m.hidden = 12;
    m.layers = 2;
    m.dropout = 0.1;
    m.seed = 5;
    train::SequenceModel cpu(m);
    m.backend = "virtual:1";
    train::SequenceModel dev(m);
    auto uploader = train::make_batch_uploader(kV1);
    train::RecurrentState sc, sd;
    for (std::int64_t i = 0; i < 3; ++i) {
      const train::Batch host = random_batch(io, 7, 5, 10 + i, {1, 0, 1, 1, 0});
      uploader->begin(host);
      const train::Batch on_dev = uploader->finish(nullptr);
      const train::BatchSums a = i == 2 ? cpu.eval_step(host, sc) : cpu.train_step(host, sc, 11);
      const train::BatchSums b = i == 2 ? dev.eval_step(on_dev, sd) : dev.train_step(on_dev, sd, 11);
      EXPECT_EQ(a.loss, b.loss) << i;
      EXPECT_EQ(a.count, b.count) << i;
      EXPECT_EQ(a.correct, b.correct) << i;
    }
    const auto pc = cpu.parameters(), pd = dev.parameters();
    for (std::size_t k = 0; k < pc.size(); ++k) {
      EXPECT_EQ(relative_error(host_bytes(pd[k].grad), pc[k].grad), 0.0) << pc[k].name;
    }
    EXPECT_EQ(relative_error(host_bytes(sd.h), sc.h), 0.0);
  }
}

}  // namespace
}  // namespace gpurnn::testing
