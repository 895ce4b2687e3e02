#pragma once
// The memory of the virtual devices (gpurnn/device.h, virtual_device_count): host memory that
// host code cannot touch.
//
// Each allocation is a memfd mapped twice: the address handed out as the device pointer lies in
// a PROT_NONE mapping, so host code that dereferences it dies with SIGSEGV as it would crash on
// a GPU; a read-write mapping of the same pages (the alias) is what the device's own calls use,
// translating each device pointer by its offset from the allocation's start (host_alias). No
// protection is ever toggled, so concurrent callers stay safe. New memory is filled with 0xFF
// bytes (NaN in f32 and f64, -1 in i32), as a GPU's is not zeroed: code that reads memory it
// never wrote shows it.
//
// host_alias also checks what a GPU would not: that the pointer is in a live allocation of the
// expected device (a host pointer, a freed buffer or another device's memory given to a device
// call is Error(internal) naming the call and the argument).

#include <cstddef>
#include <memory>

#include "core/device_allocator.h"
#include "gpurnn/device.h"

namespace gpurnn::vdev {

// The storage functions of the virtual devices (Tensor::empty / zeros / to on them).
const detail::DeviceStorage& virtual_storage();

// Error(unsupported) "<where>: device 'virtual:K' is not available: ..." unless `device` is a
// virtual device this process has.
void require_virtual_device(Device device, const char* where);

// The read-write alias of `device_pointer` (inside, or one past the end of, an allocation on
// `device`), for the device's own calls; null for null. `where` and `what` name the call and the
// argument in the error.
void* host_alias(const void* device_pointer, Device device, const char* where, const char* what);

template <class T>
T* host_alias(T* device_pointer, Device device, const char* where, const char* what) {
  return static_cast<T*>(host_alias(static_cast<const void*>(device_pointer), device, where, what));
}

}  // namespace gpurnn::vdev
