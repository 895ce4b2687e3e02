// The cpu platform's entry in the list of platforms (src/platform/platform_registry.cpp): the
// cpu backend, its training ops and the host batch uploader; tensors live in host memory.

#include "cpu/cpu_backend.h"
#include "cpu/cpu_train_ops.h"
#include "cpu/host_batch_uploader.h"
#include "platform/platform.h"

namespace gpurnn::cpu {

platform::Platform cpu_platform() {
  platform::Platform p;
  p.name = "cpu";
  p.device_kind = DeviceKind::cpu;
  p.present = [] { return true; };
  p.algorithms = [] { return std::vector<std::string>{"standard"}; };
  p.make_backend = [](Device, const BackendOptions& options) { return make_cpu_backend(options); };
  p.owns_device = true;
  p.make_train_ops = [](Device) { return train::make_cpu_train_ops(); };
  p.make_batch_uploader = make_host_batch_uploader;
  return p;
}

}  // namespace gpurnn::cpu
