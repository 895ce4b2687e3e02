#pragma once
// Storage for Tensor on a device other than the host, behind an interface free of device headers
// (internal to the library).
//
// The platform that owns a device kind (src/cuda for CUDA) provides its DeviceStorage; the three
// functions below find it in the list of platforms (src/platform/platform.cpp) and refuse, with
// Error(unsupported) "<where>: device cuda:0 is not available: this build has no CUDA", a device
// this build lacks. (Code compiled outside the library, such as the fuzzers' sanitized copy of
// src/core, links tests/fuzz/no_device_storage.cpp instead.)
//
// Stream semantics of the CUDA storage: allocated and freed in the order of the device's legacy
// default stream (cudaMallocAsync / cudaFreeAsync on cudaStreamLegacy); copies and fills return
// only when the data is in place. Code that drops storage last used by work on another stream
// calls order_frees_after(device, stream) first.

#include <cstddef>
#include <cstdint>
#include <memory>

#include "gpurnn/device.h"
#include "gpurnn/dtype.h"

namespace gpurnn::detail {

struct DeviceStorage {
  // `bytes` of storage on `device` (rounded up; never null, even for 0 bytes). `where` prefixes
  // error messages ("Tensor::empty"). Error(unsupported) when the device does not exist,
  // Error(out_of_memory) naming the bytes and the device when the allocation fails.
  std::shared_ptr<void> (*allocate)(std::size_t bytes, Device device, const char* where);
  // Copies `bytes` from `src` on `src_device` to `dst` on `dst_device` (host->device,
  // device->host, device->device, across devices too); returns when the copy is complete.
  void (*copy)(void* dst, Device dst_device, const void* src, Device src_device, std::size_t bytes);
  // Sets `bytes` bytes at `dst` on `device` to zero; returns when done.
  void (*zero)(void* dst, Device device, std::size_t bytes);
  // Makes every later free of `device`'s storage wait for the work queued on `stream` so far,
  // without waiting on the host. Null for a platform whose calls are done when they return.
  void (*order_frees_after)(Device device, void* stream) = nullptr;
  // Converts n elements between f32 and a half dtype (bf16, f16) on `device`, both buffers
  // there: widening exactly, narrowing to nearest even; returns when done. Null: Tensor::to
  // converts through the host.
  void (*convert_half)(const void* src, DType from, void* dst, DType to, std::int64_t n, Device device) = nullptr;
};

// The DeviceStorage functions of the platform that owns the (non-host) device; for copy_storage,
// the device of whichever side is not the host.
std::shared_ptr<void> allocate_device_storage(std::size_t bytes, Device device, const char* where);
void copy_storage(void* dst, Device dst_device, const void* src, Device src_device, std::size_t bytes);
void zero_device_storage(void* dst, Device device, std::size_t bytes);
// Before dropping a tensor that work on `stream` (cudaStream_t; null: the legacy default stream)
// may still use: frees issued after this wait for that work, so the storage is not handed out
// again while the stream reads or writes it. Nothing for the host or a platform without the hook.
void order_frees_after(Device device, void* stream);
// The platform's convert_half for `device`, or false (nothing done) when it has none.
bool convert_half_on_device(const void* src, DType from, void* dst, DType to, std::int64_t n, Device device);

}  // namespace gpurnn::detail
