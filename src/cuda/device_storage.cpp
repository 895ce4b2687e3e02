// The CUDA platform's storage for Tensor (the DeviceStorage of src/core/device_allocator.h).
//
// Each device gets one memory pool of its own (cudaMemPoolCreate), allocated from and freed to
// in the order of the device's legacy default stream (cudaMallocFromPoolAsync / cudaFreeAsync
// on cudaStreamLegacy). The pool keeps freed memory for reuse (release threshold: unlimited)
// instead of returning it to the driver at every synchronisation as the default pool does;
// when an allocation fails, the pool first gives back what no tensor uses and the allocation is
// tried once more. The application's own default pool is left untouched. Devices without
// stream-ordered allocation fall back to cudaMalloc / cudaFree.
//
// Ordering: work queued on the legacy default stream or on any blocking stream (cudaStreamCreate
// without cudaStreamNonBlocking) is ordered with these allocations and frees. Work on a
// non-blocking stream that uses a tensor must be made to wait for the legacy stream before its
// first use and be finished (or waited for by the legacy stream) before the tensor is destroyed:
// order_frees_after(device, stream) makes the legacy stream wait for it (an event recorded on the
// stream), so the tensors dropped after that call are freed only once the stream has done.

#include "cuda/device_storage.h"

#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "kernels/cuda_status.h"
#include "kernels/half_kernels.h"
#include "cuda/device_guard.h"
#include "gpurnn/device.h"
#include "gpurnn/error.h"

namespace gpurnn::detail {
namespace {

// cudaMallocAsync's own granularity; also keeps every tensor 256-byte aligned.
constexpr std::size_t kGranule = 256;

std::string human_bytes(std::size_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024.0 && unit < 6) {
    value /= 1024.0;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return text;
}

void require_device(Device device, const char* where) {
  const int count = cuda_device_count();
  if (!device.is_cpu() && device.index >= 0 && device.index < count) return;
  std::string why;
  if (count == 0) {
    why = "no CUDA device found (" + cuda_unavailable_reason() + ")";
  } else {
    why = "this machine has " + std::to_string(count) + " CUDA device" + (count == 1 ? "" : "s") +
          " (cuda:0 to cuda:" + std::to_string(count - 1) + ")";
  }
  throw Error(ErrorCode::unsupported,
              std::string(where) + ": device " + to_string(device) + " is not available: " + why);
}

// The pool of each device, created on first use and kept for the life of the process (a pool
// destroyed during exit could race with the runtime's own teardown). nullptr: the device has no
// stream-ordered allocator.
class Pools {
 public:
  cudaMemPool_t get(int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto index = static_cast<std::size_t>(device);
    if (index < ready_.size() && ready_[index]) return pools_[index];
    int supported = 0;
    cuda::check_cuda(cudaDeviceGetAttribute(&supported, cudaDevAttrMemoryPoolsSupported, device),
                     "cudaDeviceGetAttribute(MemoryPoolsSupported)");
    cudaMemPool_t pool = nullptr;
    if (supported != 0) {
      cudaMemPoolProps props;
      std::memset(&props, 0, sizeof props);
      props.allocType = cudaMemAllocationTypePinned;
      props.handleTypes = cudaMemHandleTypeNone;
      props.location.type = cudaMemLocationTypeDevice;
      props.location.id = device;
      cuda::check_cuda(cudaMemPoolCreate(&pool, &props), "cudaMemPoolCreate");
      std::uint64_t keep_everything = UINT64_MAX;
      cuda::check_cuda(
          cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep_everything),
          "cudaMemPoolSetAttribute(cudaMemPoolAttrReleaseThreshold)");
    }
    if (index >= ready_.size()) {
      ready_.resize(index + 1, false);
      pools_.resize(index + 1, nullptr);
    }
    pools_[index] = pool;
    ready_[index] = true;
    return pool;
  }

 private:
  std::mutex mutex_;
  std::vector<cudaMemPool_t> pools_;
  std::vector<bool> ready_;
};

Pools& pools() {
  static Pools* instance = new Pools();  // never destroyed, see above
  return *instance;
}

// Frees on the owning device, in legacy-stream order. Never throws: a failure (only expected
// while the runtime is being torn down at exit) is dropped.
struct DeviceFree {
  int device;
  bool pooled;
  void operator()(void* p) const noexcept {
    int previous = -1;
    if (cudaGetDevice(&previous) != cudaSuccess) previous = -1;
    if (previous != device) (void)cudaSetDevice(device);
    const cudaError_t status = pooled ? cudaFreeAsync(p, cudaStreamLegacy) : cudaFree(p);
    if (previous >= 0 && previous != device) (void)cudaSetDevice(previous);
    if (status != cudaSuccess) (void)cudaGetLastError();
  }
};

cudaError_t allocate(void** p, std::size_t bytes, cudaMemPool_t pool) {
  return pool != nullptr ? cudaMallocFromPoolAsync(p, bytes, pool, cudaStreamLegacy)
                         : cudaMalloc(p, bytes);
}

std::shared_ptr<void> allocate_cuda_storage(std::size_t bytes, Device device, const char* where) {
  require_device(device, where);
  const std::string what = std::string(where) + ": cannot allocate " + std::to_string(bytes) +
                           " bytes (" + human_bytes(bytes) + ") on " + to_string(device);
  if (bytes > SIZE_MAX - kGranule) throw Error(ErrorCode::out_of_memory, what);
  const std::size_t rounded = bytes == 0 ? kGranule : (bytes + kGranule - 1) / kGranule * kGranule;

  cuda::DeviceGuard guard(device.index);
  cudaMemPool_t pool = pools().get(device.index);
  void* p = nullptr;
  cudaError_t status = allocate(&p, rounded, pool);
  if (status == cudaErrorMemoryAllocation && pool != nullptr) {
    // Give back what the pool holds but no tensor uses (once pending frees have completed),
    // then try once more.
    (void)cudaGetLastError();
    if (cudaStreamSynchronize(cudaStreamLegacy) == cudaSuccess &&
        cudaMemPoolTrimTo(pool, 0) == cudaSuccess) {
      status = allocate(&p, rounded, pool);
    }
  }
  if (status != cudaSuccess) {
    (void)cudaGetLastError();
    std::string detail = std::string(cuda::error_name(status)) + ": " + cuda::error_string(status);
    std::size_t free_bytes = 0, total_bytes = 0;
    if (cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) {
      detail += "; " + human_bytes(free_bytes) + " free of " + human_bytes(total_bytes);
    } else {
      (void)cudaGetLastError();
    }
    throw Error(status == cudaErrorMemoryAllocation ? ErrorCode::out_of_memory
                                                    : ErrorCode::backend_error,
                what + " (" + (pool != nullptr ? "cudaMallocFromPoolAsync" : "cudaMalloc") + ": " +
                    detail + ")");
  }
  return std::shared_ptr<void>(p, DeviceFree{device.index, pool != nullptr});
}

void copy_cuda_storage(void* dst, Device dst_device, const void* src, Device src_device,
                  std::size_t bytes) {
  if (bytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memcpy(dst, src, bytes);
    return;
  }
  if (!dst_device.is_cpu() && !src_device.is_cpu() && dst_device.index != src_device.index) {
    // Across devices: through the host. Rare (never on a hot path) and needs no peer access.
    std::vector<unsigned char> staging(bytes);
    copy_cuda_storage(staging.data(), Device::cpu(), src, src_device, bytes);
    copy_cuda_storage(dst, dst_device, staging.data(), Device::cpu(), bytes);
    return;
  }
  const cudaMemcpyKind kind = src_device.is_cpu()   ? cudaMemcpyHostToDevice
                              : dst_device.is_cpu() ? cudaMemcpyDeviceToHost
                                                    : cudaMemcpyDeviceToDevice;
  const int device = dst_device.is_cpu() ? src_device.index : dst_device.index;
  const std::string call = "copy " + to_string(src_device) + " -> " + to_string(dst_device) + ": ";
  cuda::DeviceGuard guard(device);
  cuda::check_cuda(cudaMemcpyAsync(dst, src, bytes, kind, cudaStreamLegacy),
                   (call + "cudaMemcpyAsync").c_str());
  cuda::check_cuda(cudaStreamSynchronize(cudaStreamLegacy), (call + "cudaStreamSynchronize").c_str());
}

void zero_cuda_storage(void* dst, Device device, std::size_t bytes) {
  if (bytes == 0) return;
  cuda::DeviceGuard guard(device.index);
  cuda::check_cuda(cudaMemsetAsync(dst, 0, bytes, cudaStreamLegacy), "cudaMemsetAsync");
  cuda::check_cuda(cudaStreamSynchronize(cudaStreamLegacy), "cudaStreamSynchronize");
}

// The legacy stream, where the frees are queued, waits for what `stream` has queued so far. The
// event may be destroyed at once: the wait keeps what it recorded.
void order_cuda_frees_after(Device device, void* stream_ptr) {
  const auto stream = static_cast<cudaStream_t>(stream_ptr);
  if (stream == nullptr || stream == cudaStreamLegacy) return;  // already the frees' own order
  cuda::DeviceGuard guard(device.index);
  cudaEvent_t done = nullptr;
  cuda::check_cuda(cudaEventCreateWithFlags(&done, cudaEventDisableTiming), "cudaEventCreateWithFlags");
  cudaError_t status = cudaEventRecord(done, stream);
  if (status == cudaSuccess) status = cudaStreamWaitEvent(cudaStreamLegacy, done, 0);
  (void)cudaEventDestroy(done);
  cuda::check_cuda(status, "order_frees_after: cudaEventRecord / cudaStreamWaitEvent(cudaStreamLegacy)");
}

// f32 <-> bf16/f16 by the conversion kernels (kernels/half_kernels.h), on the legacy stream
// like every storage operation, waited for.
void convert_cuda_half(const void* src, DType from, void* dst, DType to, std::int64_t n, Device device) {
  if (n == 0) return;
  cuda::DeviceGuard guard(device.index);
  if (from == DType::f32) {
    cuda::launch_narrow_to_half(to, static_cast<const float*>(src), dst, n, cudaStreamLegacy);
  } else {
    cuda::launch_widen_half(from, src, static_cast<float*>(dst), n, cudaStreamLegacy);
  }
  cuda::check_cuda(cudaStreamSynchronize(cudaStreamLegacy), "Tensor::to: cudaStreamSynchronize");
}

}  // namespace
}  // namespace gpurnn::detail

namespace gpurnn::cuda {

const detail::DeviceStorage& device_storage() {
  static const detail::DeviceStorage storage = {detail::allocate_cuda_storage, detail::copy_cuda_storage,
                                                detail::zero_cuda_storage, detail::order_cuda_frees_after,
                                                detail::convert_cuda_half};
  return storage;
}

}  // namespace gpurnn::cuda
