#pragma once
// The platforms: one entry per backend family (cpu, cuda, cudnn), and for each device kind the
// services of the platform that owns it (training ops, batch uploader, tensor storage).
//
// Each platform folder defines its entry (src/cpu/cpu_platform.cpp, src/cuda/cuda_platform.cpp,
// src/cuda/cudnn/cudnn_platform.cpp); src/platform/platform_registry.cpp lists them, the one place
// that knows which this build has. make_backend, available_backends, backend_algorithms,
// make_train_ops, make_batch_uploader and Tensor's device storage all consult the list, so a new
// device is one folder and one line there.

#include <memory>
#include <string>
#include <vector>

#include "core/device_allocator.h"
#include "gpurnn/backend.h"
#include "gpurnn/device.h"
#include "gpurnn/train/ops.h"
#include "platform/batch_uploader.h"

namespace gpurnn::platform {

struct Platform {
  // The backend name: "cpu", or "cuda" / "cudnn", which also take ":N" for a device index.
  const char* name = "";
  // The kind of device its tensors live on ("cudnn:1" runs on cuda:1).
  DeviceKind device_kind = DeviceKind::cpu;
  // Null when this build has the platform; otherwise why not, for the errors of a request.
  const char* unbuilt = nullptr;
  // Whether a device to run on is present now (available_backends lists only those).
  bool (*present)() = nullptr;
  std::vector<std::string> (*algorithms)() = nullptr;
  std::unique_ptr<Backend> (*make_backend)(Device device, const BackendOptions& options) = nullptr;
  // The version of the library it computes with, for `gpurnn info` (cpu: oneDNN, empty without
  // it; cudnn: the cuDNN loaded); null when it has none.
  std::string (*library_version)() = nullptr;

  // The device's own services, from the one platform that owns its kind (cpu, cuda); a platform
  // that runs on another's device (cudnn) leaves them unset.
  bool owns_device = false;
  std::unique_ptr<train::TrainOps> (*make_train_ops)(Device device) = nullptr;
  std::unique_ptr<train::BatchUploader> (*make_batch_uploader)(Device device) = nullptr;
  const detail::DeviceStorage* storage = nullptr;  // null for host memory

  bool built() const { return unbuilt == nullptr; }
};

// Every platform this library knows, built or not, in the order available_backends lists them.
const std::vector<Platform>& platforms();

// The entry of a platform this build lacks: every request names `reason`.
Platform unbuilt_platform(const char* name, DeviceKind kind, bool owns_device, const char* reason);

// The platform that owns `device`'s kind. Error(unsupported) "<where>: device '<device>' is not
// available: <why>" when this build lacks it.
const Platform& device_owner(Device device, const char* where);

}  // namespace gpurnn::platform
