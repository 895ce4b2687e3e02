#pragma once
// The fixture of the suites that call one TrainOps operation on the cpu and on the device under
// test (device_test_support.h) with the same inputs and compare: f32 and f64 (the parameter),
// random inputs from a suite's own seed, outputs poisoned with NaN on both sides.

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>

#include "device/device_test_support.h"
#include "gpurnn/train/ops.h"
#include "test_support.h"

namespace gpurnn::testing {

template <std::uint64_t Seed>
class DeviceOpsTest : public ::testing::TestWithParam<DType> {
 protected:
  void SetUp() override {
    GPURNN_REQUIRE_DEVICE();
    cpu_ = train::make_train_ops(Device::cpu());
    gpu_ = train::make_train_ops(test_device());
  }
  DType dt() const { return this->GetParam(); }
  Both random(Shape shape, std::uint64_t stream, double scale = 1.0) const {
    return both(random_tensor(shape, dt(), Seed, stream, scale));
  }
  Both nan_filled(Shape shape) const { return both(poisoned(shape, dt())); }
  // Element-wise results: a few ulps. Products and reordered sums: the design's tolerances. A
  // virtual device runs the cpu's code: 0 there (tolerance()).
  double tight() const { return dt() == DType::f32 ? 1e-6 : 1e-13; }
  double loose() const { return dt() == DType::f32 ? 1e-5 : 1e-12; }
  static void expect_close(const Both& b, double allowed, const std::string& what) {
    EXPECT_LE(relative_error(to_host(b.gpu), b.cpu), tolerance(allowed)) << what;
  }

  std::unique_ptr<train::TrainOps> cpu_, gpu_;
};

}  // namespace gpurnn::testing
