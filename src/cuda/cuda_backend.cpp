#include "cuda/cuda_backend.h"

#include "cuda/cublas_handle.h"
#include "cuda/cuda_ops.h"
#include "cuda/cuda_status.h"
#include "cuda/device_guard.h"
#include "engine/standard_backend.h"

namespace gpurnn::cuda {
namespace {

// One CUDA device: the calls run on it (a DeviceGuard for the length of each call) and queue
// their work on the caller's stream.
class CudaPlatform {
 public:
  explicit CudaPlatform(Device device) : device_(device) {
    check_argument(!device.is_cpu(), "make_backend", "device", "must be a CUDA device, got cpu");
    const int count = cuda_device_count();
    if (device.index < 0 || device.index >= count) {
      throw Error(ErrorCode::unsupported, "make_backend: device " + to_string(device) +
                                              " is not present (" + std::to_string(count) +
                                              " CUDA devices found)");
    }
  }
  const char* name() const { return "cuda"; }
  Device device() const { return device_; }
  std::optional<std::string> unsupported_reason(const RNNDescriptor&, DType) const {
    return std::nullopt;
  }
  DeviceGuard enter() const { return DeviceGuard(device_.index); }
  template <class T>
  CudaOps<T> ops(void* stream) const {
    return CudaOps<T>(static_cast<cudaStream_t>(stream), cublas_handle_for(device_.index));
  }
  engine::ReserveHeader read_header(const engine::ReserveHeader* header, void* stream) const {
    return ops<float>(stream).read_header(header);
  }

 private:
  Device device_;
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(Device device, const BackendOptions& /*options*/) {
  return std::make_unique<engine::StandardBackend<CudaPlatform>>(CudaPlatform(device));
}

}  // namespace gpurnn::cuda
