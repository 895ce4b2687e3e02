#pragma once
// CUDA storage for Tensor, behind an interface free of CUDA headers (internal to the library).
//
// With CUDA in the build (GPURNN_HAVE_CUDA), src/cuda/device_allocator.cpp implements these.
// Without it, the inline versions below refuse: no tensor can live on a CUDA device, so only
// allocation is ever reached. (Inline rather than in a .cpp so that code compiled outside the
// library, such as the fuzzers' sanitized copy of src/core, links without any CUDA file.)
//
// Stream semantics: storage is allocated and freed in the order of the device's legacy default
// stream (cudaMallocAsync / cudaFreeAsync on cudaStreamLegacy); copies and fills return only
// when the data is in place.

#include <cstddef>
#include <memory>
#include <string>

#include "gpurnn/device.h"
#include "gpurnn/error.h"

namespace gpurnn::detail {

#if defined(GPURNN_HAVE_CUDA) && GPURNN_HAVE_CUDA

// `bytes` of storage on CUDA device `device` (rounded up; never null, even for 0 bytes). `where`
// prefixes error messages ("Tensor::empty"). Throws Error(unsupported) when the device does not
// exist, Error(out_of_memory) naming the bytes and the device when the allocation fails.
std::shared_ptr<void> allocate_device_storage(std::size_t bytes, Device device, const char* where);
// Copies `bytes` from `src` on `src_device` to `dst` on `dst_device` (any of host->device,
// device->host, device->device, across devices too); returns when the copy is complete.
void copy_storage(void* dst, Device dst_device, const void* src, Device src_device,
                  std::size_t bytes);
// Sets `bytes` bytes at `dst` on CUDA device `device` to zero; returns when done.
void zero_device_storage(void* dst, Device device, std::size_t bytes);

#else

[[noreturn]] inline void throw_no_cuda(const char* where, Device device) {
  throw Error(ErrorCode::unsupported, std::string(where) + ": device " + to_string(device) +
                                          " is not available: this build has no CUDA");
}
[[noreturn]] inline std::shared_ptr<void> allocate_device_storage(std::size_t, Device device,
                                                                  const char* where) {
  throw_no_cuda(where, device);
}
[[noreturn]] inline void copy_storage(void*, Device dst_device, const void*, Device src_device,
                                      std::size_t) {
  throw_no_cuda("Tensor copy", dst_device.is_cpu() ? src_device : dst_device);
}
[[noreturn]] inline void zero_device_storage(void*, Device device, std::size_t) {
  throw_no_cuda("Tensor::zeros", device);
}

#endif

}  // namespace gpurnn::detail
