#include "virtual/virtual_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "core/half_arrays.h"
#include "gpurnn/error.h"

namespace gpurnn {

int virtual_device_count() {
  const char* text = std::getenv("GPURNN_VIRTUAL_DEVICES");
  if (text == nullptr || *text == '\0') return 0;
  int count = 0;
  bool digits = std::strlen(text) <= 2;
  for (const char* c = text; digits && *c != '\0'; ++c) {
    digits = *c >= '0' && *c <= '9';
    count = count * 10 + (*c - '0');
  }
  if (!digits || count > 64) {
    throw Error(ErrorCode::invalid_argument, std::string("environment variable GPURNN_VIRTUAL_DEVICES is '") + text +
                                                 "', expected a number of virtual devices from 0 to 64");
  }
  return count;
}

namespace vdev {
namespace {

struct Region {
  std::size_t bytes = 0;  // mapped: a whole number of pages
  char* alias = nullptr;  // the read-write mapping of the same pages
  int device = 0;
};

// Every live allocation, by the address of its PROT_NONE mapping.
class Regions {
 public:
  void add(const char* fence, const Region& r) {
    std::unique_lock lock(mutex_);
    regions_[reinterpret_cast<std::uintptr_t>(fence)] = r;
  }
  void remove(const char* fence) {
    std::unique_lock lock(mutex_);
    regions_.erase(reinterpret_cast<std::uintptr_t>(fence));
  }
  // The alias of p, or null when p is in no region of `device` (one past the end counts as in).
  // `found_device` says which device p belongs to when it is another's (-1: none).
  char* alias_of(const void* p, int device, int& found_device) const {
    const auto address = reinterpret_cast<std::uintptr_t>(p);
    std::shared_lock lock(mutex_);
    found_device = -1;
    auto it = regions_.upper_bound(address);
    if (it == regions_.begin()) return nullptr;
    --it;
    const std::uintptr_t offset = address - it->first;
    if (offset > it->second.bytes) return nullptr;
    found_device = it->second.device;
    return found_device == device ? it->second.alias + offset : nullptr;
  }

 private:
  mutable std::shared_mutex mutex_;
  std::map<std::uintptr_t, Region> regions_;
};

Regions& regions() {
  static Regions* r = new Regions();  // never destroyed: tensors may outlive static destruction
  return *r;
}

std::size_t page_rounded(std::size_t bytes) {
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return bytes == 0 ? page : (bytes + page - 1) / page * page;
}

std::shared_ptr<void> allocate(std::size_t bytes, Device device, const char* where) {
  require_virtual_device(device, where);
  const std::size_t mapped = page_rounded(bytes);
  auto fail = [&](const char* what) {
    return Error(ErrorCode::out_of_memory, std::string(where) + ": cannot allocate " + std::to_string(bytes) +
                                               " bytes on " + to_string(device) + " (" + what + ": " +
                                               std::strerror(errno) + ")");
  };
  const int fd = memfd_create("gpurnn-virtual-device", MFD_CLOEXEC);
  if (fd < 0) throw fail("memfd_create");
  if (ftruncate(fd, static_cast<off_t>(mapped)) != 0) {
    const Error e = fail("ftruncate");
    close(fd);
    throw e;
  }
  void* fence = mmap(nullptr, mapped, PROT_NONE, MAP_SHARED, fd, 0);
  void* alias = fence == MAP_FAILED ? MAP_FAILED : mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (alias == MAP_FAILED) {
    const Error e = fail("mmap");
    if (fence != MAP_FAILED) munmap(fence, mapped);
    close(fd);
    throw e;
  }
  close(fd);  // the mappings keep the pages
  std::memset(alias, 0xFF, mapped);
  regions().add(static_cast<char*>(fence), {mapped, static_cast<char*>(alias), device.index});
  return std::shared_ptr<void>(fence, [mapped, alias](void* p) {
    regions().remove(static_cast<char*>(p));
    munmap(p, mapped);
    munmap(alias, mapped);
  });
}

// A side of a copy: host memory as it is, a virtual device's through its alias.
void* side(const void* p, Device device, const char* what) {
  if (device.is_cpu()) return const_cast<void*>(p);
  return host_alias(p, device, "Tensor copy", what);
}

void copy(void* dst, Device dst_device, const void* src, Device src_device, std::size_t bytes) {
  if (bytes == 0) return;
  std::memmove(side(dst, dst_device, "dst"), side(src, src_device, "src"), bytes);
}

void zero(void* dst, Device device, std::size_t bytes) {
  if (bytes == 0) return;
  std::memset(host_alias(dst, device, "Tensor::zeros", "dst"), 0, bytes);
}

// f32 <-> bf16/f16 with the cpu's conversions, on the aliases.
void convert_half(const void* src, DType from, void* dst, DType to, std::int64_t n, Device device) {
  if (n == 0) return;
  const void* in = host_alias(src, device, "Tensor::to", "src");
  void* out = host_alias(dst, device, "Tensor::to", "dst");
  if (from == DType::f32) {
    detail::narrow_to_half(to, static_cast<const float*>(in), out, n);
  } else {
    detail::widen_half(from, in, static_cast<float*>(out), n);
  }
}

}  // namespace

const detail::DeviceStorage& virtual_storage() {
  static const detail::DeviceStorage storage{allocate, copy, zero, nullptr, convert_half};
  return storage;
}

void require_virtual_device(Device device, const char* where) {
  const int count = virtual_device_count();
  if (device.kind == DeviceKind::virtual_device && device.index >= 0 && device.index < count) return;
  const std::string why =
      count == 0 ? "this process has no virtual devices (set GPURNN_VIRTUAL_DEVICES=N to have N)"
                 : "GPURNN_VIRTUAL_DEVICES=" + std::to_string(count) + " gives virtual:0 to virtual:" +
                       std::to_string(count - 1);
  throw Error(ErrorCode::unsupported, std::string(where) + ": device '" + to_string(device) + "' is not available: " + why);
}

void* host_alias(const void* device_pointer, Device device, const char* where, const char* what) {
  if (device_pointer == nullptr) return nullptr;
  int owner = -1;
  char* alias = regions().alias_of(device_pointer, device.index, owner);
  if (alias != nullptr) return alias;
  throw Error(ErrorCode::internal,
              std::string(where) + ": argument '" + what + "' points to " +
                  (owner >= 0 ? "memory of virtual:" + std::to_string(owner)
                              : std::string("memory that is no live allocation of a virtual device (host memory?)")) +
                  ", expected memory of " + to_string(device));
}

}  // namespace vdev
}  // namespace gpurnn
