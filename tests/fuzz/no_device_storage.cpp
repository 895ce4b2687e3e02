// The device storage of the fuzzers' sanitized copy of src/core, which links no platform: every
// tensor they make is on the host, so only a refusal is ever needed.

#include <string>

#include "core/device_allocator.h"
#include "gpurnn/error.h"

namespace gpurnn::detail {
namespace {

[[noreturn]] void refuse(const char* where, Device device) {
  throw Error(ErrorCode::unsupported, std::string(where) + ": device " + to_string(device) +
                                          " is not available: the fuzzers link no device platform");
}

}  // namespace

std::shared_ptr<void> allocate_device_storage(std::size_t, Device device, const char* where) {
  refuse(where, device);
}

void copy_storage(void*, Device dst_device, const void*, Device src_device, std::size_t) {
  refuse("Tensor copy", dst_device.is_cpu() ? src_device : dst_device);
}

void zero_device_storage(void*, Device device, std::size_t) { refuse("Tensor::zeros", device); }

}  // namespace gpurnn::detail
