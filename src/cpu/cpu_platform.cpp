// The cpu platform's entry in the list of platforms (src/platform/platform_registry.cpp): the
// cpu backend, its training ops and the host batch uploader; tensors live in host memory.

#if defined(GPURNN_HAVE_ONEDNN)
#include <oneapi/dnnl/dnnl.h>
#endif

#include "cpu/cpu_backend.h"
#include "cpu/cpu_train_ops.h"
#include "cpu/host_batch_uploader.h"
#include "platform/platform.h"

namespace gpurnn::cpu {
namespace {

// The oneDNN the f32 GEMMs run on ("2.6.3", src/cpu/packed_gemm.h); empty in a build without it.
std::string onednn_version() {
#if defined(GPURNN_HAVE_ONEDNN)
  const dnnl_version_t* v = dnnl_version();
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
#else
  return {};
#endif
}

}  // namespace

platform::Platform cpu_platform() {
  platform::Platform p;
  p.name = "cpu";
  p.device_kind = DeviceKind::cpu;
  p.present = [] { return true; };
  p.algorithms = [] { return std::vector<std::string>{"standard"}; };
  p.make_backend = [](Device, const BackendOptions& options) { return make_cpu_backend(options); };
  p.library_version = onednn_version;
  p.owns_device = true;
  p.make_train_ops = [](Device) { return train::make_cpu_train_ops(); };
  p.make_batch_uploader = make_host_batch_uploader;
  return p;
}

}  // namespace gpurnn::cpu
