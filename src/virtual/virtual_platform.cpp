// The virtual devices' entry in the list of platforms (src/platform/platform_registry.cpp): the
// "virtual" backend (the standard algorithm on VirtualOps), its training ops, batch uploader and
// memory (virtual_memory.h). Present when GPURNN_VIRTUAL_DEVICES gives the process devices.

#include <optional>
#include <string>

#include "core/half_arrays.h"
#include "core/thread_count.h"
#include "engine/standard_backend.h"
#include "platform/platform.h"
#include "virtual/virtual_batch_uploader.h"
#include "virtual/virtual_memory.h"
#include "virtual/virtual_ops.h"
#include "virtual/virtual_train_ops.h"

namespace gpurnn::vdev {
namespace {

// The Platform of engine::StandardBackend (standard_backend.h) for one virtual device.
class VirtualPlatform {
 public:
  VirtualPlatform(Device device, const BackendOptions& options) : device_(device), num_threads_(options.num_threads) {
    detail::check_thread_count(options.num_threads, "make_backend", "options.num_threads");
  }
  const char* name() const { return "virtual"; }
  Device device() const { return device_; }
  std::optional<std::string> unsupported_reason(const RNNDescriptor&, DType) const { return std::nullopt; }
  struct NoScope {};
  NoScope enter() const { return {}; }
  template <class T>
  VirtualOps<T> ops(void* /*stream*/) const {
    cpu::use_cpu_threads(num_threads_);
    VirtualOps<T> ops;
    ops.device = device_;
    return ops;
  }
  engine::ReserveHeader read_header(const engine::ReserveHeader* header, void*) const {
    return *host_alias(header, device_, "reading the reserve", "reserve");
  }
  // Half calls (engine/half_calls.h): the cpu's conversions on the host aliases of this device's
  // memory, as the CUDA platform runs its conversion kernels on the device's.
  void widen_half(DType half, const void* src, float* dst, std::int64_t n, void* /*stream*/) const {
    detail::widen_half(half, host_alias(src, device_, "widen_half", "source"),
                       host_alias(dst, device_, "widen_half", "destination"), n);
  }
  void narrow_to_half(DType half, const float* src, void* dst, std::int64_t n, void* /*stream*/) const {
    detail::narrow_to_half(half, host_alias(src, device_, "narrow_to_half", "source"),
                           host_alias(dst, device_, "narrow_to_half", "destination"), n);
  }
  void synchronize(void* /*stream*/) const {}

 private:
  Device device_;
  int num_threads_;
};

}  // namespace

platform::Platform virtual_platform() {
  platform::Platform p;
  p.name = "virtual";
  p.device_kind = DeviceKind::virtual_device;
  p.present = [] { return virtual_device_count() > 0; };
  p.algorithms = [] { return std::vector<std::string>{"standard"}; };
  p.make_backend = [](Device device, const BackendOptions& options) -> std::unique_ptr<Backend> {
    require_virtual_device(device, "make_backend");
    return std::make_unique<engine::StandardBackend<VirtualPlatform>>(VirtualPlatform(device, options));
  };
  p.owns_device = true;
  p.make_train_ops = make_virtual_train_ops;
  p.make_batch_uploader = make_virtual_batch_uploader;
  p.storage = &virtual_storage();
  return p;
}

}  // namespace gpurnn::vdev
