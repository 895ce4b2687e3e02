// Every registered platform against the cpu backend, as ggml's test-backend-ops runs every
// backend against its CPU one: for each sweep case (cell kinds × sizes × layers × directions ×
// ragged lengths × bias), each platform this build has and whose device is present runs each of
// its algorithms in f32 (inference and training, outputs and workspace poisoned) and is compared
// with the cpu backend in f64 on the same weights and inputs. A platform that is not built or has
// no device is listed by PlatformRegistry.EveryPlatformIsListed; a case an algorithm
// refuses (Backend::unsupported_reason) is skipped for that algorithm only, and every case runs
// at least the cpu backend itself, whose f32 path (vectorised rows, oneDNN or OpenBLAS products)
// differs from its f64 path (scalar rows of detail/cell_math.h). Each run is repeated on prepared
// weights (Backend::prepare).
//
// BackendContract runs the same backends through what backend.h promises beyond matching the cpu:
// backward_data twice on one reserve gives the same gradients, bit for bit, and leaves the
// forward's saved values as they were (or, on cudnn alone, the second call is refused).

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "platform/platform.h"
#include "sweep_cases.h"
#include "test_support.h"

namespace gpurnn::testing {
namespace {

// The f32 inputs of a case and the same values in f64, for the baseline.
FullRunInputs in_f64(const FullRunInputs& in) {
  FullRunInputs out = in;
  const auto widen = [](const Tensor& t) { return t.defined() ? t.to(DType::f64) : t; };
  out.x = widen(in.x);
  out.h0 = widen(in.h0);
  out.c0 = widen(in.c0);
  out.dy = widen(in.dy);
  out.dhn = widen(in.dhn);
  out.dcn = widen(in.dcn);
  return out;
}

// Whether `backend` refuses a batch of sequences of different lengths: Error(unsupported) per call,
// not per descriptor (cuDNN's small-h and dynamic persistent algorithms, cudnn_rules.h).
bool refuses_ragged(const std::string& backend) {
  return backend == "cudnn/persist_static_small_h" || backend == "cudnn/persist_dynamic";
}

class RegistrySweep : public ::testing::TestWithParam<SweepCase> {};

TEST_P(RegistrySweep, EveryBackendMatchesCpu) {
  const SweepCase& c = GetParam();
  const RNNDescriptor& d = c.desc;
  RNNWeights w32(d, DType::f32);
  w32.init_uniform(17);
  Tensor flat64 = w32.flat().to(DType::f64);
  const RNNWeights w64 = RNNWeights::borrow(d, flat64.view());
  int ran = 0;
  for (const platform::Platform& p : platform::platforms()) {
    if (!p.built() || !p.present()) continue;
    for (const std::string& algorithm : p.algorithms()) {
      const std::string name = std::string(p.name) + "/" + algorithm;
      SCOPED_TRACE(name);
      Backend& backend = shared_backend(name);
      if (backend.unsupported_reason(d, DType::f32) || (c.ragged && refuses_ragged(name))) continue;
      const RNNWeights weights = w32.to(backend.device());
      for (ForwardMode mode : {ForwardMode::inference, ForwardMode::training}) {
        SCOPED_TRACE(mode == ForwardMode::training ? "training" : "inference");
        const FullRunInputs in = sweep_inputs(d, {3, kSweepSteps, 1, 4}, c.ragged, mode);
        const FullRun base = full_run(shared_backend("cpu"), w64, in_f64(in));
        expect_runs_match(full_run(backend, weights, in), base, d, mode, name);
        // The same calls on prepared weights (Backend::prepare).
        const std::shared_ptr<const PreparedWeights> prepared = backend.prepare(weights);
        FullRunInputs prepared_in = in;
        prepared_in.prepared = prepared.get();
        expect_runs_match(full_run(backend, weights, prepared_in), base, d, mode, name + " on prepared weights");
      }
      ++ran;
    }
  }
  EXPECT_GE(ran, 1) << "the cpu backend runs every case";
}

INSTANTIATE_TEST_SUITE_P(Sweep, RegistrySweep, ::testing::ValuesIn(sweep_cases({1, 7, 65}, 3)),
                         SweepCaseName());

// The same bytes (bit for bit: -0.0 is not 0.0), compared on the host.
bool same_bits(const Tensor& a, const Tensor& b) {
  const Tensor ha = a.to(Device::cpu()), hb = b.to(Device::cpu());
  return ha.bytes() == hb.bytes() && std::memcmp(ha.data(), hb.data(), ha.bytes()) == 0;
}

// The input gradients of one backward_data, in outputs poisoned (NaN) before the call.
struct DataGradients {
  Tensor dx, dh0, dc0;
};

class BackendContract : public ::testing::TestWithParam<SweepCase> {};

// backward_data twice on one reserve, with the same arguments: the same dx, dh0 and dc0 bit for
// bit, and backward_weights after it gives what it gives after one call (the forward's saved
// values are unchanged). The cudnn backend refuses the second call instead (backend.h).
TEST_P(BackendContract, BackwardDataTwiceOnOneReserve) {
  const SweepCase& c = GetParam();
  const RNNDescriptor& d = c.desc;
  RNNWeights host_weights(d, DType::f32);
  host_weights.init_uniform(29);
  const FullRunInputs in = sweep_inputs(d, {3, kSweepSteps, 1, 4}, c.ragged, ForwardMode::training);
  int ran = 0;
  for (const std::string& platform_name : available_backends()) {
    for (const std::string& algorithm : backend_algorithms(platform_name)) {
      const std::string name = platform_name + "/" + algorithm;
      SCOPED_TRACE(name);
      Backend& backend = shared_backend(name);
      if (backend.unsupported_reason(d, DType::f32) || (c.ragged && refuses_ragged(name))) continue;
      const Device dev = backend.device();
      const auto on_device = [&](const Tensor& t) { return t.defined() ? t.to(dev) : Tensor(); };
      const auto view_of = [](const Tensor& t) { return t.defined() ? t.view() : ConstTensorView(); };
      const RNNWeights w = host_weights.to(dev);
      const Tensor x = on_device(in.x), h0 = on_device(in.h0), c0 = on_device(in.c0);
      const Tensor dy = on_device(in.dy), dhn = on_device(in.dhn), dcn = on_device(in.dcn);
      const SequenceShape s{x.dim(0), x.dim(1), false};
      const std::int64_t states = static_cast<std::int64_t>(d.num_layers) * d.num_directions();
      const auto bytes = [](std::size_t n) { return static_cast<std::int64_t>(n); };
      Tensor y = Tensor::empty({s.seq_len, s.batch, d.output_size()}, DType::f32, dev);
      Tensor hn = Tensor::empty({states, s.batch, d.state_size()}, DType::f32, dev);
      Tensor cn = d.has_cell_state() ? Tensor::empty({states, s.batch, d.hidden_size}, DType::f32, dev) : Tensor();
      Tensor workspace = Tensor::empty({bytes(backend.workspace_size(d, s, DType::f32, ForwardMode::training))},
                                       DType::u8, dev);
      Tensor reserve = Tensor::empty({bytes(backend.reserve_size(d, s, DType::f32))}, DType::u8, dev);

      const auto forward = [&] {
        ForwardArgs f;
        f.mode = ForwardMode::training;
        f.x = x.view();
        f.lengths = view_of(in.lengths);
        f.h0 = view_of(h0);
        f.c0 = view_of(c0);
        f.y = y.view();
        f.hn = hn.view();
        if (cn.defined()) f.cn = cn.view();
        f.workspace = workspace.view();
        f.reserve = reserve.view();
        backend.forward(w, f);
      };
      const auto backward_data = [&] {
        DataGradients g;
        g.dx = poisoned(x.shape(), DType::f32).to(dev);
        g.dh0 = poisoned(hn.shape(), DType::f32).to(dev);
        if (cn.defined()) g.dc0 = poisoned(cn.shape(), DType::f32).to(dev);
        BackwardDataArgs b;
        b.lengths = view_of(in.lengths);
        b.dy = dy.view();
        b.dhn = view_of(dhn);
        b.dcn = view_of(dcn);
        b.dx = g.dx.view();
        b.dh0 = g.dh0.view();
        if (g.dc0.defined()) b.dc0 = g.dc0.view();
        b.workspace = workspace.view();
        b.reserve = reserve.view();
        backend.backward_data(w, b);
        return g;
      };
      const auto backward_weights = [&] {
        RNNWeights grads(d, DType::f32, dev);
        BackwardWeightsArgs b;
        b.x = x.view();
        b.workspace = workspace.view();
        b.reserve = reserve.view();
        b.grad_mode = GradMode::overwrite;
        backend.backward_weights(w, b, grads);
        return grads.flat().to(Device::cpu());
      };

      forward();
      const DataGradients first = backward_data();
      if (backend.name() == "cudnn") {
        expect_error([&] { backward_data(); }, ErrorCode::unsupported,
                     {"backward_data", "not supported by cuDNN", "run the training forward again"});
        ++ran;
        continue;
      }
      const DataGradients second = backward_data();
      EXPECT_TRUE(same_bits(second.dx, first.dx)) << "dx";
      EXPECT_TRUE(same_bits(second.dh0, first.dh0)) << "dh0";
      if (first.dc0.defined()) {
        EXPECT_TRUE(same_bits(second.dc0, first.dc0)) << "dc0";
      }
      const Tensor after_two = backward_weights();
      forward();
      backward_data();
      EXPECT_TRUE(same_bits(after_two, backward_weights())) << "weight gradients after two backward_data "
                                                               "calls and after one";
      ++ran;
    }
  }
  EXPECT_GE(ran, 1) << "the cpu backend runs every case";
}

INSTANTIATE_TEST_SUITE_P(Sweep, BackendContract, ::testing::ValuesIn(sweep_cases({5}, 2)), SweepCaseName());

// The registry is what the public functions report: available_backends() is the built platforms
// with a device present, in registry order; backend_algorithms() is each one's list (empty for an
// unbuilt one); the cpu platform is always first and always present.
TEST(PlatformRegistry, EveryPlatformIsListed) {
  std::vector<std::string> expected;
  for (const platform::Platform& p : platform::platforms()) {
    const bool present = p.built() && p.present();
    std::printf("  platform %-6s %s\n", p.name,
                !p.built() ? (std::string("not built: ") + p.unbuilt).c_str()
                           : present ? "built, device present: swept" : "built, no device: not swept");
    if (present) expected.emplace_back(p.name);
    if (!p.built()) {
      EXPECT_TRUE(backend_algorithms(p.name).empty()) << p.name;
    } else {
      EXPECT_EQ(backend_algorithms(p.name), p.algorithms()) << p.name;
      EXPECT_FALSE(p.algorithms().empty()) << p.name;
    }
  }
  ASSERT_FALSE(platform::platforms().empty());
  EXPECT_STREQ(platform::platforms().front().name, "cpu");
  EXPECT_EQ(available_backends(), expected);
}

}  // namespace
}  // namespace gpurnn::testing
