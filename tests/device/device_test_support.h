#pragma once
// The device the device-generic suites (the gpurnn_device_tests executable) run on, and helpers
// to move their data there. These suites test what every device shares — the training engine's
// host plumbing, uploads, models, decoding — against the cpu device; they run on a CUDA device
// when there is one and, in CI, on a virtual device (GPURNN_VIRTUAL_DEVICES, gpurnn/device.h).
//
// The device under test: GPURNN_TEST_DEVICE when set ("cuda:0", "virtual:1"), else cuda:0 when
// the process has a CUDA device, else virtual:1 when it has two or more virtual devices (index 1,
// so that nothing passes by assuming index 0), else none: every test then reports itself skipped.
// A virtual device computes with the cpu platform's code, so its results must equal the cpu's bit
// for bit (tolerance() is 0 there); a CUDA device's within the tolerance each test states.

#include <cstdlib>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "gpurnn/device.h"
#include "gpurnn/tensor.h"
#include "gpurnn/train/batch.h"

namespace gpurnn::testing {

inline std::optional<Device> device_under_test() {
  if (const char* given = std::getenv("GPURNN_TEST_DEVICE"); given != nullptr && *given != '\0') {
    return parse_device(given);
  }
  if (cuda_device_count() > 0) return Device::cuda(0);
  if (virtual_device_count() >= 2) return Device::virtual_device(1);
  return std::nullopt;
}
inline Device test_device() { return device_under_test().value_or(Device::cpu()); }
// The backend name of the device under test ("cuda:0", "virtual:1").
inline std::string test_backend() { return to_string(test_device()); }

// `allowed` on a CUDA device; 0 on a virtual one (the cpu's arithmetic, bit for bit).
inline double tolerance(double allowed) {
  return test_device().kind == DeviceKind::virtual_device ? 0.0 : allowed;
}

inline Tensor to_device(const Tensor& t) { return t.defined() ? t.to(test_device()) : t; }
inline Tensor to_host(const Tensor& t) { return t.defined() ? t.to(Device::cpu()) : t; }

// A tensor on the host and its copy on the device under test, for calling the cpu and the
// device's implementation of one op (the member is named gpu for the CUDA suites that share it);
// `none()` stands for an omitted optional argument.
struct Both {
  Tensor cpu, gpu;
  TensorView cpu_view() { return cpu.defined() ? cpu.view() : TensorView(); }
  TensorView gpu_view() { return gpu.defined() ? gpu.view() : TensorView(); }
};
inline Both both(const Tensor& host) { return {host, to_device(host)}; }
inline Both none() { return {}; }

// A host batch as a device's BatchUploader returns it: inputs, targets and device_lengths on
// `device`, lengths still on the host (gpurnn/train/batch.h).
inline train::Batch batch_on(const train::Batch& host, Device device) {
  train::Batch b = host;
  b.inputs = host.inputs.to(device);
  b.targets = host.targets.to(device);
  if (host.lengths.defined()) b.device_lengths = host.lengths.to(device);
  return b;
}

}  // namespace gpurnn::testing

// Skips the current test, saying why, when there is no device to test.
#define GPURNN_REQUIRE_DEVICE()                                                                       \
  do {                                                                                                \
    if (!::gpurnn::testing::device_under_test()) {                                                    \
      GTEST_SKIP() << "no device to test: no CUDA device (" << ::gpurnn::cuda_unavailable_reason()    \
                   << ") and fewer than 2 virtual devices (set GPURNN_VIRTUAL_DEVICES=2)";            \
    }                                                                                                 \
  } while (false)

// Skips the current test unless the process has two virtual devices (the suites of the virtual
// devices themselves; CTest sets GPURNN_VIRTUAL_DEVICES=2).
#define GPURNN_REQUIRE_VIRTUAL_DEVICES()                                                           \
  do {                                                                                             \
    if (::gpurnn::virtual_device_count() < 2) GTEST_SKIP() << "needs GPURNN_VIRTUAL_DEVICES=2 or more"; \
  } while (false)
