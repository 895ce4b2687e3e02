// The cudnn backend on a device: the weight conversion round trip (and one piece checked at the
// address cuDNN itself reports), gradient accumulation, and its refusals and bad-argument errors,
// which use the same words as the cpu backend's. Skipped, with the reason, without a GPU.

#include <cudnn.h>

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cuda/cudnn/cudnn_descriptors.h"
#include "cuda/cudnn/cudnn_handle.h"
#include "cuda/cudnn/cudnn_weights.h"
#include "gpu/gpu_test_support.h"
#include "gpurnn/gpurnn.h"
#include "test_support.h"

namespace gpurnn::testing {
namespace {

RNNDescriptor small_desc(CellKind cell, bool bi, bool bias, std::int64_t proj = 0) {
  RNNDescriptor d;
  d.cell = cell;
  d.input_size = 5;
  d.hidden_size = 6;
  d.num_layers = 2;
  d.bidirectional = bi;
  d.bias = bias;
  d.proj_size = proj;
  return d;
}

TEST(CudnnDevice, WeightConversionRoundTripsExactly) {
  GPURNN_REQUIRE_GPU();
  const cudnnHandle_t handle = cuda::cudnn_handle_for(0);
  for (DType dtype : {DType::f32, DType::f64}) {
    for (CellKind cell : {CellKind::rnn_tanh, CellKind::rnn_relu, CellKind::lstm, CellKind::gru}) {
      for (bool bi : {false, true}) {
        for (bool bias : {true, false}) {
          for (std::int64_t proj : {0, 4}) {
            if (proj > 0 && cell != CellKind::lstm) continue;
            const RNNDescriptor d = small_desc(cell, bi, bias, proj);
            SCOPED_TRACE(to_string(d) + " " + to_string(dtype));
            const cuda::RnnDescriptor rnn = cuda::make_rnn_descriptor(handle, d, dtype, cuda::CudnnAlgorithm::standard);
            std::size_t bytes = 0;
            ASSERT_EQ(cudnnGetRNNWeightSpaceSize(handle, rnn.rnn.get(), &bytes), CUDNN_STATUS_SUCCESS);
            Tensor space = poisoned_bytes(bytes).to(Device::cuda(0));
            const std::size_t elem = dtype_size(dtype);
            RNNWeights w(d, dtype);
            w.init_uniform(11);
            const RNNWeights dw = w.to(Device::cuda(0));
            const cuda::CudnnWeightMap map =
                cuda::make_weight_map(handle, rnn.rnn.get(), d, space.data(), bytes, elem, w.numel());
            cuda::run_weight_copies(map.to_cudnn, dw.flat().data(), space.data(), elem, nullptr);

            // Independently of the plan: weight_ih_l0 gate 1 (LSTM f, GRU z) or weight_hh_l0
            // (vanilla: linLayerID 1) at the address cuDNN reports.
            const int id = 1;
            const std::string name = d.gates() > 1 ? "weight_ih_l0" : "weight_hh_l0";
            const std::int64_t rows_before = d.gates() > 1 ? d.hidden_size : 0;
            cudnnTensorDescriptor_t m = nullptr, b = nullptr;
            ASSERT_EQ(cudnnCreateTensorDescriptor(&m), CUDNN_STATUS_SUCCESS);
            ASSERT_EQ(cudnnCreateTensorDescriptor(&b), CUDNN_STATUS_SUCCESS);
            void* m_addr = nullptr;
            void* b_addr = nullptr;
            ASSERT_EQ(cudnnGetRNNWeightParams(handle, rnn.rnn.get(), 0, bytes, space.data(), id, m, &m_addr, b, &b_addr),
                      CUDNN_STATUS_SUCCESS);
            cudnnDestroyTensorDescriptor(m);
            cudnnDestroyTensorDescriptor(b);
            const ConstTensorView param = w.get(name);
            const std::int64_t cols = param.dim(1);
            const std::size_t piece = static_cast<std::size_t>(d.hidden_size * cols) * elem;
            std::vector<unsigned char> got(piece);
            ASSERT_EQ(cudaMemcpy(got.data(), m_addr, piece, cudaMemcpyDeviceToHost), cudaSuccess);
            const auto* expected = static_cast<const unsigned char*>(param.data()) + rows_before * cols * elem;
            EXPECT_EQ(std::memcmp(got.data(), expected, piece), 0) << name << " at linLayerID " << id;

            RNNWeights back(d, dtype, Device::cuda(0));
            back.flat() = poisoned({w.numel()}, dtype).to(Device::cuda(0));
            cuda::run_weight_copies(map.from_cudnn, space.data(), back.flat().data(), elem, nullptr);
            ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
            const Tensor host = back.flat().to(Device::cpu());
            EXPECT_EQ(std::memcmp(host.data(), w.flat().data(), w.flat().bytes()), 0);
          }
        }
      }
    }
  }
}

// Buffers for one cudnn (or cpu) training run of `d` on the backend's device.
struct TrainingRun {
  std::unique_ptr<Backend> backend;
  RNNWeights w, grads;
  Tensor x, lengths, y, hn, cn, dy, dx, dh0, dc0, ws, rs;

  TrainingRun(const std::string& name, const RNNDescriptor& d, std::vector<std::int32_t> lens = {4, 2, 3})
      : backend(make_backend(name)) {
    const Device dev = backend->device();
    const auto B = static_cast<std::int64_t>(lens.size());
    const std::int64_t T = 4, states = static_cast<std::int64_t>(d.num_layers) * d.num_directions();
    RNNWeights host(d, DType::f32);
    host.init_uniform(2);
    w = host.to(dev);
    grads = RNNWeights(d, DType::f32, dev);
    x = random_tensor({T, B, d.input_size}, DType::f32, 3, 1).to(dev);
    lengths = Tensor::from_host<std::int32_t>({B}, lens.data());
    y = Tensor::zeros({T, B, d.output_size()}, DType::f32, dev);
    dy = random_tensor({T, B, d.output_size()}, DType::f32, 3, 2).to(dev);
    dx = Tensor::zeros(x.shape(), DType::f32, dev);
    hn = Tensor::zeros({states, B, d.state_size()}, DType::f32, dev);
    dh0 = Tensor::zeros(hn.shape(), DType::f32, dev);
    if (d.has_cell_state()) {
      cn = Tensor::zeros({states, B, d.hidden_size}, DType::f32, dev);
      dc0 = Tensor::zeros(cn.shape(), DType::f32, dev);
    }
    const SequenceShape s{T, B, false};
    ws = Tensor::zeros({static_cast<std::int64_t>(backend->workspace_size(d, s, DType::f32, ForwardMode::training))},
                       DType::u8, dev);
    rs = Tensor::zeros({static_cast<std::int64_t>(backend->reserve_size(d, s, DType::f32))}, DType::u8, dev);
  }
  ForwardArgs fwd() {
    ForwardArgs a;
    a.mode = ForwardMode::training;
    a.x = x, a.lengths = lengths, a.y = y, a.hn = hn, a.workspace = ws, a.reserve = rs;
    if (cn.defined()) a.cn = cn;
    return a;
  }
  BackwardDataArgs bwd() {
    BackwardDataArgs a;
    a.lengths = lengths, a.dy = dy, a.dx = dx, a.dh0 = dh0, a.workspace = ws, a.reserve = rs;
    if (dc0.defined()) a.dc0 = dc0;
    return a;
  }
  BackwardWeightsArgs bww(GradMode mode = GradMode::overwrite) {
    BackwardWeightsArgs a;
    a.x = x, a.workspace = ws, a.reserve = rs, a.grad_mode = mode;
    return a;
  }
};

// The message of the gpurnn::Error `fn` throws, with the device written as "cpu".
std::string message_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    std::string m = e.what();
    for (std::size_t at; (at = m.find("cuda:0")) != std::string::npos;) m.replace(at, 6, "cpu");
    return m;
  }
  ADD_FAILURE() << "no gpurnn::Error was thrown";
  return {};
}

TEST(CudnnErrors, BadArgumentsGetTheCpuBackendsWords) {
  GPURNN_REQUIRE_GPU();
  const RNNDescriptor d = small_desc(CellKind::lstm, true, true);
  TrainingRun cpu("cpu", d), gpu("cudnn", d);
  for (TrainingRun* r : {&cpu, &gpu}) {
    r->lengths.data_as<std::int32_t>()[1] = 9;  // above T
  }
  EXPECT_EQ(message_of([&] { gpu.backend->forward(gpu.w, gpu.fwd()); }),
            message_of([&] { cpu.backend->forward(cpu.w, cpu.fwd()); }));
  for (TrainingRun* r : {&cpu, &gpu}) r->lengths.data_as<std::int32_t>()[1] = 2;

  Tensor bad_x_cpu = random_tensor({4, 3, 4}, DType::f32, 1, 1), bad_x_gpu = bad_x_cpu.to(Device::cuda(0));
  ForwardArgs fc = cpu.fwd(), fg = gpu.fwd();
  fc.x = bad_x_cpu, fg.x = bad_x_gpu;
  const std::string m = message_of([&] { gpu.backend->forward(gpu.w, fg); });
  EXPECT_EQ(m, message_of([&] { cpu.backend->forward(cpu.w, fc); }));
  EXPECT_NE(m.find("'x'"), std::string::npos) << m;

  BackwardDataArgs bc = cpu.bwd(), bg = gpu.bwd();
  bc.dh0 = TensorView(cpu.dh0.data(), {1, 3, 6}, DType::f32, Device::cpu());
  bg.dh0 = TensorView(gpu.dh0.data(), {1, 3, 6}, DType::f32, Device::cuda(0));
  EXPECT_EQ(message_of([&] { gpu.backend->backward_data(gpu.w, bg); }),
            message_of([&] { cpu.backend->backward_data(cpu.w, bc); }));
}

TEST(CudnnErrors, BackwardNeedsAFilledReserveInOrder) {
  GPURNN_REQUIRE_GPU();
  TrainingRun r("cudnn", small_desc(CellKind::gru, false, true));
  expect_error([&] { r.backend->backward_data(r.w, r.bwd()); }, ErrorCode::invalid_argument,
               {"backward_data", "'reserve'", "not filled by a training forward"});
  r.backend->forward(r.w, r.fwd());
  expect_error([&] { r.backend->backward_weights(r.w, r.bww(), r.grads); }, ErrorCode::invalid_argument,
               {"backward_weights", "'reserve'", "backward_data"});
  r.backend->backward_data(r.w, r.bwd());
  EXPECT_NO_THROW(r.backend->backward_weights(r.w, r.bww(), r.grads));
}

TEST(CudnnErrors, RefusesWhatCudnnCannotDo) {
  GPURNN_REQUIRE_GPU();
  RNNDescriptor sigmoid = small_desc(CellKind::rnn_sigmoid, false, true);
  const auto why = make_backend("cudnn")->unsupported_reason(sigmoid, DType::f32);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("not supported by cuDNN: cell rnn_sigmoid"), std::string::npos) << *why;

  RNNDescriptor dropout = small_desc(CellKind::lstm, false, true);
  dropout.dropout = 0.25;
  EXPECT_FALSE(make_backend("cudnn")->unsupported_reason(dropout, DType::f32)) << "inference ignores dropout";
  expect_error([&] { make_backend("cudnn")->reserve_size(dropout, {4, 2, false}, DType::f32); },
               ErrorCode::unsupported, {"reserve_size", "not supported by cuDNN", "dropout"});

  // Whether the algorithm runs here at all is asked first: TrainingRun's size queries already
  // ask cuDNN and would throw for a descriptor it refuses.
  const RNNDescriptor lstm = small_desc(CellKind::lstm, false, true);
  for (const std::string algorithm : {"persist_static_small_h", "persist_dynamic"}) {
    SCOPED_TRACE(algorithm);
    if (!make_backend("cudnn/" + algorithm)->supports(lstm, DType::f32)) continue;
    TrainingRun ragged("cudnn/" + algorithm, lstm);
    expect_error([&] { ragged.backend->forward(ragged.w, ragged.fwd()); }, ErrorCode::unsupported,
                 {"forward", "not supported by cuDNN", algorithm, "different lengths"});
  }
}

// The Backend contract's one exception: a second backward_data on one reserve is refused, and a
// new forward makes the reserve usable again.
TEST(CudnnErrors, BackwardDataOncePerForward) {
  GPURNN_REQUIRE_GPU();
  TrainingRun r("cudnn", small_desc(CellKind::lstm, true, true));
  r.backend->forward(r.w, r.fwd());
  r.backend->backward_data(r.w, r.bwd());
  expect_error([&] { r.backend->backward_data(r.w, r.bwd()); }, ErrorCode::unsupported,
               {"backward_data", "not supported by cuDNN", "run the training forward again"});
  EXPECT_NO_THROW(r.backend->backward_weights(r.w, r.bww(), r.grads)) << "the refusal changes nothing";
  r.backend->forward(r.w, r.fwd());
  EXPECT_NO_THROW(r.backend->backward_data(r.w, r.bwd()));
}

// accumulate adds this call's gradients to what grads holds: twice accumulated = 2 x overwrite.
TEST(CudnnDevice, AccumulateAddsToTheGradients) {
  GPURNN_REQUIRE_GPU();
  TrainingRun r("cudnn", small_desc(CellKind::lstm, true, true, 3));
  r.backend->forward(r.w, r.fwd());
  r.backend->backward_data(r.w, r.bwd());
  r.backend->backward_weights(r.w, r.bww(GradMode::overwrite), r.grads);
  const Tensor once = r.grads.flat().to(Device::cpu());
  r.backend->backward_weights(r.w, r.bww(GradMode::accumulate), r.grads);
  const Tensor twice = r.grads.flat().to(Device::cpu());
  Tensor doubled = once.clone();
  for (std::int64_t i = 0; i < doubled.numel(); ++i) doubled.data_as<float>()[i] *= 2.0F;
  EXPECT_LT(relative_error(twice, doubled), 1e-6);
  EXPECT_GT(relative_error(once, Tensor::zeros(once.shape(), DType::f32)), 0.0) << "gradients are not all zero";
}

}  // namespace
}  // namespace gpurnn::testing
