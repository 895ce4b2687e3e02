// The cuda BatchUploader (platform/batch_uploader.h): a host batch is staged into one of two pinned
// slots, copied to new device tensors on a non-blocking copy stream, and an event recorded after
// the copies is what finish() makes the compute stream wait on.
//
// Ordering, and why:
//   - New device tensors come from the device's pool in legacy-default-stream order (see the
//     Tensor comment in gpurnn/tensor.h); the copy stream is non-blocking, so before writing it
//     waits on an event recorded on the legacy stream after the allocations.
//   - A slot's pinned bytes may still be feeding the copy begun two batches ago; begin() waits
//     on that slot's event (on the host) before overwriting them. With two slots that copy is
//     normally long finished.
//   - The compute stream waits on the copy event, so kernels there read the data only after it
//     has landed. When the compute stream is the legacy stream or a blocking one, the tensors'
//     eventual free (legacy-stream order) is also after the copy; with a non-blocking compute
//     stream the Tensor rule applies: finish with the tensors there before dropping them.
//   - The destructor waits for the copy stream before anything it owns is released.
// begin() blocks the host only on a slot's copy from two batches ago (normally long done) and
// when a slot grows (cudaHostAlloc/cudaFreeHost, which may synchronise the device): on the first
// batches, or when a batch is larger than any before.

#include "cuda/cuda_batch_uploader.h"

#include <cuda_runtime.h>

#include <array>
#include <cstddef>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "kernels/cuda_status.h"
#include "cuda/device_guard.h"
#include "cuda/require_device.h"

namespace gpurnn::cuda {
namespace {

constexpr const char* kBegin = "BatchUploader::begin";
constexpr const char* kFinish = "BatchUploader::finish";
constexpr std::size_t kStagingAlignment = 256;

// Page-locked host memory (cudaHostAlloc), grown on demand; its contents are not kept on growth.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  ~PinnedBuffer() { release(); }

  void reserve(std::size_t bytes) {
    if (bytes <= capacity_) return;
    release();
    void* p = nullptr;
    GPURNN_CUDA_CHECK(cudaHostAlloc(&p, bytes, cudaHostAllocDefault));
    data_ = static_cast<unsigned char*>(p);
    capacity_ = bytes;
  }
  unsigned char* data() const { return data_; }

 private:
  void release() {
    if (data_ != nullptr) (void)cudaFreeHost(data_);  // only fails at runtime teardown
    data_ = nullptr;
    capacity_ = 0;
  }
  unsigned char* data_ = nullptr;
  std::size_t capacity_ = 0;
};

// An event without timing. One never recorded counts as complete (cudaEventSynchronize returns).
class Event {
 public:
  Event() { GPURNN_CUDA_CHECK(cudaEventCreateWithFlags(&event_, cudaEventDisableTiming)); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  ~Event() { (void)cudaEventDestroy(event_); }
  cudaEvent_t get() const { return event_; }

 private:
  cudaEvent_t event_ = nullptr;
};

class NonBlockingStream {
 public:
  NonBlockingStream() { GPURNN_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
  NonBlockingStream(const NonBlockingStream&) = delete;
  NonBlockingStream& operator=(const NonBlockingStream&) = delete;
  ~NonBlockingStream() { (void)cudaStreamDestroy(stream_); }
  cudaStream_t get() const { return stream_; }

 private:
  cudaStream_t stream_ = nullptr;
};

struct Slot {
  PinnedBuffer staging;
  Event copied;  // recorded on the copy stream after this slot's last copies
};

// The tensors of a Batch, in one order, for staging and copying: the host batch's lengths go to
// the device batch's device_lengths (its lengths stay the host's, for the Backend calls).
std::array<const Tensor*, 3> tensors_of(const train::Batch& b) { return {&b.inputs, &b.targets, &b.lengths}; }
std::array<Tensor*, 3> device_tensors_of(train::Batch& b) { return {&b.inputs, &b.targets, &b.device_lengths}; }
constexpr std::array<const char*, 3> kTensorNames = {"host.inputs", "host.targets", "host.lengths"};

std::size_t aligned(std::size_t bytes) {
  return (bytes + kStagingAlignment - 1) / kStagingAlignment * kStagingAlignment;
}

class CudaBatchUploader final : public train::BatchUploader {
 public:
  // With `device` current: the stream and events belong to the device current at creation.
  explicit CudaBatchUploader(Device device) : device_(device) {}

  ~CudaBatchUploader() override {
    // Copies in flight read the slots' pinned memory and write the pending batch's tensors.
    int previous = 0;
    const bool have_previous = cudaGetDevice(&previous) == cudaSuccess;
    if (cudaSetDevice(device_.index) == cudaSuccess) (void)cudaStreamSynchronize(copy_stream_.get());
    pending_.reset();
    if (have_previous) (void)cudaSetDevice(previous);
    (void)cudaGetLastError();
  }

  void begin(const train::Batch& host) override {
    check_argument(!pending_.has_value(), kBegin, "host", "a batch is already in flight; call finish() first");
    const auto sources = tensors_of(host);
    std::size_t total = 0;
    for (std::size_t i = 0; i < sources.size(); ++i) {
      const Tensor& t = *sources[i];
      check_argument(!t.defined() || t.device().is_cpu(), kBegin, kTensorNames[i],
                     "is on " + to_string(t.device()) + ", expected a CPU tensor");
      total += aligned(t.bytes());
    }
    const DeviceGuard guard(device_.index);
    Slot& slot = slots_[next_slot_];
    GPURNN_CUDA_CHECK(cudaEventSynchronize(slot.copied.get()));  // its last copy has read the slot
    slot.staging.reserve(total);

    train::Batch device;
    device.carry_state = host.carry_state;
    device.lengths = host.lengths;
    const auto targets = device_tensors_of(device);
    std::size_t offset = 0;
    for (std::size_t i = 0; i < sources.size(); ++i) {
      const Tensor& src = *sources[i];
      if (!src.defined()) continue;
      if (src.bytes() > 0) std::memcpy(slot.staging.data() + offset, src.data(), src.bytes());
      *targets[i] = Tensor::empty(src.shape(), src.dtype(), device_);
      offset += aligned(src.bytes());
    }
    // The copy stream writes the new tensors only after the pool has handed them out.
    GPURNN_CUDA_CHECK(cudaEventRecord(pool_ready_.get(), cudaStreamLegacy));
    GPURNN_CUDA_CHECK(cudaStreamWaitEvent(copy_stream_.get(), pool_ready_.get(), 0));
    offset = 0;
    for (std::size_t i = 0; i < sources.size(); ++i) {
      const Tensor& src = *sources[i];
      if (!src.defined()) continue;
      if (src.bytes() > 0) {
        GPURNN_CUDA_CHECK(cudaMemcpyAsync(targets[i]->data(), slot.staging.data() + offset, src.bytes(),
                                          cudaMemcpyHostToDevice, copy_stream_.get()));
      }
      offset += aligned(src.bytes());
    }
    GPURNN_CUDA_CHECK(cudaEventRecord(slot.copied.get(), copy_stream_.get()));
    pending_ = std::move(device);
    pending_slot_ = next_slot_;
    next_slot_ = 1 - next_slot_;
  }

  train::Batch finish(void* compute_stream) override {
    check_argument(pending_.has_value(), kFinish, "this", "no batch was begun");
    const DeviceGuard guard(device_.index);
    cudaStream_t stream = compute_stream == nullptr ? cudaStreamLegacy : static_cast<cudaStream_t>(compute_stream);
    GPURNN_CUDA_CHECK(cudaStreamWaitEvent(stream, slots_[pending_slot_].copied.get(), 0));
    train::Batch out = std::move(*pending_);
    pending_.reset();
    return out;
  }

 private:
  Device device_;
  NonBlockingStream copy_stream_;
  Event pool_ready_;  // recorded on the legacy stream after a batch's tensors are allocated
  std::array<Slot, 2> slots_;
  int next_slot_ = 0;
  int pending_slot_ = 0;
  std::optional<train::Batch> pending_;
};

}  // namespace

std::unique_ptr<train::BatchUploader> make_cuda_batch_uploader(Device device) {
  require_cuda_device(device, "make_batch_uploader");
  const DeviceGuard guard(device.index);
  return std::make_unique<CudaBatchUploader>(device);
}

}  // namespace gpurnn::cuda
