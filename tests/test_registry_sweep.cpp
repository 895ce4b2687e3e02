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
      if (backend.unsupported_reason(d, DType::f32)) continue;
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
