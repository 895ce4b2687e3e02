// The requests that consult the list of platforms: make_backend and its listings (public,
// gpurnn/backend.h), make_train_ops (gpurnn/train/ops.h), make_batch_uploader, and the device
// storage behind Tensor (core/device_allocator.h).

#include "platform/platform.h"

#include <string>

#include "gpurnn/error.h"

namespace gpurnn {
namespace platform {
namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// The platform a backend name ("cpu", "cuda:1", "cudnn") belongs to, or null.
const Platform* platform_of_backend(const std::string& name) {
  for (const Platform& p : platforms()) {
    const std::string family = p.name;
    if (name == family) return &p;
    if (p.device_kind != DeviceKind::cpu && name.compare(0, family.size() + 1, family + ":") == 0) return &p;
  }
  return nullptr;
}

// "cudnn:1" -> cuda:1, "cuda" -> cuda:0, "virtual:1" -> virtual:1, "cpu" -> cpu (parse_device
// checks the index).
Device device_of_backend(const Platform& p, const std::string& name) {
  if (p.device_kind == DeviceKind::cpu) return Device::cpu();
  return parse_device(to_string(p.device_kind) + name.substr(std::string(p.name).size()));
}

// Refuses an algorithm the backend does not offer, naming the ones it does.
void check_algorithm(const std::string& backend, const std::string& algorithm) {
  if (algorithm.empty()) return;
  const std::vector<std::string> known = backend_algorithms(backend);
  for (const std::string& a : known) {
    if (a == algorithm) return;
  }
  throw Error(ErrorCode::unsupported, "make_backend: algorithm '" + algorithm + "' is not offered by backend '" +
                                          backend + "'; it offers: " + joined(known));
}

// The storage of a device that is not the host, from the platform that owns it. `where` and
// the message as Tensor has always worded them ("Tensor::empty: device cuda:0 is not available:
// this build has no CUDA").
const detail::DeviceStorage& storage_of(Device device, const char* where) {
  for (const Platform& p : platforms()) {
    if (!p.owns_device || p.device_kind != device.kind) continue;
    if (!p.built() || p.storage == nullptr) {
      throw Error(ErrorCode::unsupported, std::string(where) + ": device " + to_string(device) +
                                              " is not available: " + (p.built() ? "it has no storage" : p.unbuilt));
    }
    return *p.storage;
  }
  throw Error(ErrorCode::unsupported, std::string(where) + ": no platform owns device " + to_string(device));
}

}  // namespace

Platform unbuilt_platform(const char* name, DeviceKind kind, bool owns_device, const char* reason) {
  Platform p;
  p.name = name;
  p.device_kind = kind;
  p.unbuilt = reason;
  p.owns_device = owns_device;
  return p;
}

const Platform& device_owner(Device device, const char* where) {
  for (const Platform& p : platforms()) {
    if (!p.owns_device || p.device_kind != device.kind) continue;
    if (!p.built()) {
      throw Error(ErrorCode::unsupported,
                  std::string(where) + ": device '" + to_string(device) + "' is not available: " + p.unbuilt);
    }
    return p;
  }
  throw Error(ErrorCode::unsupported, std::string(where) + ": no platform owns device '" + to_string(device) + "'");
}

}  // namespace platform

std::vector<std::string> available_backends() {
  std::vector<std::string> names;
  for (const platform::Platform& p : platform::platforms()) {
    if (p.built() && p.present()) names.emplace_back(p.name);
  }
  return names;
}

std::vector<std::string> backend_algorithms(const std::string& backend) {
  const platform::Platform* p = platform::platform_of_backend(backend);
  return p != nullptr && p->built() ? p->algorithms() : std::vector<std::string>{};
}

std::unique_ptr<Backend> make_backend(const std::string& full_name, const BackendOptions& given) {
  BackendOptions options = given;
  std::string name = full_name;
  if (const std::size_t slash = full_name.find('/'); slash != std::string::npos) {
    name = full_name.substr(0, slash);
    const std::string algorithm = full_name.substr(slash + 1);
    check_argument(!algorithm.empty(), "make_backend", "name",
                   [&] { return "'" + full_name + "' has an empty algorithm after '/'"; });
    check_argument(options.algorithm.empty() || options.algorithm == algorithm, "make_backend", "name", [&] {
      return "'" + full_name + "' names algorithm '" + algorithm + "' but options.algorithm is '" + options.algorithm +
             "'";
    });
    options.algorithm = algorithm;
  }
  const platform::Platform* p = platform::platform_of_backend(name);
  if (p == nullptr) {
    throw Error(ErrorCode::unsupported, "make_backend: argument 'name' is '" + full_name +
                                            "'; this build offers: " + platform::joined(available_backends()));
  }
  if (!p->built()) {
    throw Error(ErrorCode::unsupported, "make_backend: backend '" + name + "' is not available: " + p->unbuilt);
  }
  platform::check_algorithm(name, options.algorithm);
  return p->make_backend(platform::device_of_backend(*p, name), options);
}

namespace train {

std::unique_ptr<TrainOps> make_train_ops(Device device) {
  return platform::device_owner(device, "make_train_ops").make_train_ops(device);
}

std::unique_ptr<BatchUploader> make_batch_uploader(Device device) {
  return platform::device_owner(device, "make_batch_uploader").make_batch_uploader(device);
}

}  // namespace train

namespace detail {

std::shared_ptr<void> allocate_device_storage(std::size_t bytes, Device device, const char* where) {
  return platform::storage_of(device, where).allocate(bytes, device, where);
}

void copy_storage(void* dst, Device dst_device, const void* src, Device src_device, std::size_t bytes) {
  if (!dst_device.is_cpu() && !src_device.is_cpu() && dst_device.kind != src_device.kind) {
    // Between devices of two platforms (cuda and virtual): through the host.
    const std::shared_ptr<void> host(::operator new(bytes == 0 ? 1 : bytes), [](void* p) { ::operator delete(p); });
    copy_storage(host.get(), Device::cpu(), src, src_device, bytes);
    copy_storage(dst, dst_device, host.get(), Device::cpu(), bytes);
    return;
  }
  const Device device = dst_device.is_cpu() ? src_device : dst_device;
  platform::storage_of(device, "Tensor copy").copy(dst, dst_device, src, src_device, bytes);
}

void zero_device_storage(void* dst, Device device, std::size_t bytes) {
  platform::storage_of(device, "Tensor::zeros").zero(dst, device, bytes);
}

bool convert_half_on_device(const void* src, DType from, void* dst, DType to, std::int64_t n, Device device) {
  const DeviceStorage& storage = platform::storage_of(device, "Tensor::to");
  if (storage.convert_half == nullptr) return false;
  storage.convert_half(src, from, dst, to, n, device);
  return true;
}

void order_frees_after(Device device, void* stream) {
  if (device.is_cpu()) return;
  const DeviceStorage& storage = platform::storage_of(device, "order_frees_after");
  if (storage.order_frees_after != nullptr) storage.order_frees_after(device, stream);
}

}  // namespace detail
}  // namespace gpurnn
