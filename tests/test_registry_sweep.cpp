// Every registered platform against the cpu backend, as ggml's test-backend-ops runs every
// backend against its CPU one: for each sweep case (cell kinds × sizes × layers × directions ×
// ragged lengths × bias), each platform this build has and whose device is present runs each of
// its algorithms in f32 (inference and training, outputs and workspace poisoned) and is compared
// with the cpu backend in f64 on the same weights and inputs. A platform that is not built or has
// no device is listed by PlatformRegistry.EveryPlatformIsListed; a case an algorithm
// refuses (Backend::unsupported_reason) is skipped for that algorithm only, and every case runs
// at least the cpu backend itself, whose f32 path (vectorised rows, oneDNN or OpenBLAS products)
// differs from its f64 path (scalar rows of detail/cell_math.h).

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "platform/platform.h"
#include "sweep_cases.h"
#include "test_support.h"

namespace gpurnn::testing {
namespace {

constexpr std::int64_t kSteps = 5;

FullRunInputs inputs_for(const RNNDescriptor& d, bool ragged, ForwardMode mode, DType dtype) {
  const std::int64_t states = static_cast<std::int64_t>(d.num_layers) * d.num_directions();
  const std::vector<std::int32_t> lengths = {3, kSteps, 1, 4};
  const auto B = static_cast<std::int64_t>(lengths.size());
  FullRunInputs in;
  in.mode = mode;
  in.x = random_tensor({kSteps, B, d.input_size}, dtype, 11, 1);
  in.h0 = random_tensor({states, B, d.state_size()}, dtype, 11, 2, 0.5);
  if (d.has_cell_state()) in.c0 = random_tensor({states, B, d.hidden_size}, dtype, 11, 3, 0.5);
  in.dy = random_tensor({kSteps, B, d.output_size()}, dtype, 11, 4);
  in.dhn = random_tensor({states, B, d.state_size()}, dtype, 11, 5);
  if (d.has_cell_state()) in.dcn = random_tensor({states, B, d.hidden_size}, dtype, 11, 6);
  if (ragged) in.lengths = Tensor::from_host<std::int32_t>({B}, lengths.data());
  return in;
}

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

void expect_close(const FullRun& run, const FullRun& base, const RNNDescriptor& d, ForwardMode mode) {
  constexpr double kForwardTol = 1e-5, kGradTol = 1e-4;  // relative, f32 against f64
  EXPECT_LT(relative_error(run.y, base.y), kForwardTol) << "y";
  EXPECT_LT(relative_error(run.hn, base.hn), kForwardTol) << "hn";
  if (d.has_cell_state()) {
    EXPECT_LT(relative_error(run.cn, base.cn), kForwardTol) << "cn";
  }
  if (mode == ForwardMode::inference) return;
  EXPECT_LT(relative_error(run.dx, base.dx), kGradTol) << "dx";
  EXPECT_LT(relative_error(run.dh0, base.dh0), kGradTol) << "dh0";
  if (d.has_cell_state()) {
    EXPECT_LT(relative_error(run.dc0, base.dc0), kGradTol) << "dc0";
  }
  EXPECT_LT(relative_error(run.dweights.flat(), base.dweights.flat()), kGradTol) << "weights";
}

class RegistrySweep : public ::testing::TestWithParam<SweepCase> {};

TEST_P(RegistrySweep, EveryBackendMatchesCpu) {
  const SweepCase& c = GetParam();
  const RNNDescriptor& d = c.desc;
  RNNWeights w32(d, DType::f32);
  w32.init_uniform(17);
  Tensor flat64 = w32.flat().to(DType::f64);
  const RNNWeights w64 = RNNWeights::borrow(d, flat64.view());
  Backend& cpu = *[] {
    static const std::unique_ptr<Backend> backend = make_backend("cpu");
    return backend.get();
  }();

  int ran = 0;
  for (const platform::Platform& p : platform::platforms()) {
    if (!p.built() || !p.present()) continue;
    for (const std::string& algorithm : p.algorithms()) {
      SCOPED_TRACE(std::string(p.name) + "/" + algorithm);
      const std::unique_ptr<Backend> backend = make_backend(p.name, BackendOptions{0, algorithm});
      if (backend->unsupported_reason(d, DType::f32)) continue;
      const RNNWeights weights = w32.to(backend->device());
      for (ForwardMode mode : {ForwardMode::inference, ForwardMode::training}) {
        SCOPED_TRACE(mode == ForwardMode::training ? "training" : "inference");
        const FullRunInputs in = inputs_for(d, c.ragged, mode, DType::f32);
        expect_close(full_run(*backend, weights, in), full_run(cpu, w64, in_f64(in)), d, mode);
      }
      ++ran;
    }
  }
  EXPECT_GE(ran, 1) << "the cpu backend runs every case";
}

INSTANTIATE_TEST_SUITE_P(Sweep, RegistrySweep, ::testing::ValuesIn(sweep_cases({1, 7, 65}, 3)),
                         SweepCaseName());

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
