// The CPU backend's branch-free f32 exp, tanh and sigmoid (src/cpu/vector_math.h), checked
// against f64 libm over a dense sweep of f32 bit patterns (every sign and exponent, 1 value in
// 251 of each binade, 17 million in all) and the special values. Error is counted in ulps of
// the f32 result.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "cpu/vector_math.h"

namespace gpurnn::cpu::vmath {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr float kMinNormal = std::numeric_limits<float>::min();

// The spacing of f32 values at the magnitude of `ref` (2^-149 in the subnormal range).
double ulp_at(double ref) {
  const double a = std::fabs(ref);
  if (a < kMinNormal) return std::ldexp(1.0, -149);
  return std::ldexp(1.0, std::ilogb(a) - 23);
}

// Largest error in ulps of `f` against `ref` over the sweep where ref is a finite f32 value
// (where it overflows f32, f must be inf). `normal_only`: skip subnormal references (the
// caller checks them separately).
// `f` is a lambda calling the function under test directly: an always_inline function passed by
// pointer cannot be inlined at -O1 (the sanitizer build's level), which GCC makes an error.
template <class F, class R>
double max_ulp_error(F f, R ref, bool normal_only) {
  double worst = 0;
  for (std::uint64_t u = 0; u <= 0xffffffffu; u += 251) {
    const float x = float_of(static_cast<std::uint32_t>(u));
    if (std::isnan(x)) continue;
    const double want = ref(static_cast<double>(x));
    const float got = f(x);
    if (std::fabs(want) > std::numeric_limits<float>::max()) {
      EXPECT_EQ(got, want > 0 ? kInf : -kInf) << "x=" << x;
      continue;
    }
    if (normal_only && std::fabs(want) < kMinNormal) continue;
    const double err = std::fabs(static_cast<double>(got) - want) / ulp_at(want);
    EXPECT_LE(err, 16.0) << "x=" << x << " got " << got << " want " << want;  // stop runaway
    if (err > worst) worst = err;
  }
  return worst;
}

double sigmoid_ref(double x) { return 1.0 / (1.0 + std::exp(-x)); }

TEST(VectorMath, ExpWithinTwoUlpsEverywhere) {
  const double worst = max_ulp_error([](float x) { return exp_f32(x); }, [](double x) { return std::exp(x); }, false);
  EXPECT_LE(worst, 2.0);
  RecordProperty("max_ulp", std::to_string(worst));
}

TEST(VectorMath, TanhWithinTwoUlpsEverywhere) {
  const double worst = max_ulp_error([](float x) { return tanh_f32(x); }, [](double x) { return std::tanh(x); }, false);
  EXPECT_LE(worst, 2.0);
  RecordProperty("max_ulp", std::to_string(worst));
}

TEST(VectorMath, SigmoidWithinThreeUlpsWhereNormal) {
  const double worst = max_ulp_error([](float x) { return sigmoid_f32(x); }, sigmoid_ref, true);
  EXPECT_LE(worst, 3.0);
  RecordProperty("max_ulp", std::to_string(worst));
  // Subnormal results (x below about -87.3) are within one smallest normal of the truth,
  // as 1 / (1 + expf(-x)) with libm is.
  for (float x = -87.0f; x > -110.0f; x -= 0.01f) {
    EXPECT_LE(std::fabs(static_cast<double>(sigmoid_f32(x)) - sigmoid_ref(x)), kMinNormal) << x;
  }
}

TEST(VectorMath, TanhEveryValueAroundTheSwitch) {
  // Every f32 in [0.5, 0.75], around the polynomial-to-exp switch at 0.625, both signs.
  double worst = 0;
  for (float x = 0.5f; x <= 0.75f; x = std::nextafter(x, 1.0f)) {
    for (float v : {x, -x}) {
      const double want = std::tanh(static_cast<double>(v));
      worst = std::fmax(worst, std::fabs(tanh_f32(v) - want) / ulp_at(want));
    }
  }
  EXPECT_LE(worst, 2.0);
}

TEST(VectorMath, SpecialValues) {
  EXPECT_EQ(exp_f32(0.0f), 1.0f);
  EXPECT_EQ(exp_f32(-0.0f), 1.0f);
  EXPECT_EQ(exp_f32(kInf), kInf);
  EXPECT_EQ(exp_f32(-kInf), 0.0f);
  EXPECT_EQ(exp_f32(89.0f), kInf);
  EXPECT_EQ(exp_f32(-200.0f), 0.0f);
  EXPECT_EQ(exp_f32(std::numeric_limits<float>::denorm_min()), 1.0f);
  EXPECT_EQ(exp_f32(std::log(std::numeric_limits<float>::max())),
            std::exp(std::log(std::numeric_limits<float>::max())));
  EXPECT_TRUE(std::isnan(exp_f32(kNan)));

  EXPECT_EQ(tanh_f32(0.0f), 0.0f);
  EXPECT_TRUE(std::signbit(tanh_f32(-0.0f)));
  const float tiny = std::numeric_limits<float>::denorm_min() * 7;
  EXPECT_EQ(tanh_f32(tiny), tiny);
  EXPECT_EQ(tanh_f32(-tiny), -tiny);
  EXPECT_EQ(tanh_f32(kInf), 1.0f);
  EXPECT_EQ(tanh_f32(-kInf), -1.0f);
  EXPECT_EQ(tanh_f32(1e30f), 1.0f);
  EXPECT_TRUE(std::isnan(tanh_f32(kNan)));
  EXPECT_TRUE(std::isnan(tanh_f32(-kNan)));

  EXPECT_EQ(sigmoid_f32(0.0f), 0.5f);
  EXPECT_EQ(sigmoid_f32(kInf), 1.0f);
  EXPECT_EQ(sigmoid_f32(-kInf), 0.0f);
  EXPECT_EQ(sigmoid_f32(tiny), 0.5f);
  EXPECT_TRUE(std::isnan(sigmoid_f32(kNan)));
}

}  // namespace
}  // namespace gpurnn::cpu::vmath
