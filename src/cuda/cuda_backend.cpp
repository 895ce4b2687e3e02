#include "cuda/cuda_backend.h"

#include <memory>

#include "cuda/cublas_handle.h"
#include "cuda/cuda_ops.h"
#include "kernels/cuda_status.h"
#include "cuda/device_guard.h"
#include "cuda/device_limits.h"
#include "engine/standard_backend.h"

namespace gpurnn::cuda {
namespace {

CudaAlgorithm parse_algorithm(const std::string& name) {
  if (name.empty() || name == "standard") return CudaAlgorithm::standard;
  if (name == "persistent") return CudaAlgorithm::persistent;
  if (name == "persistent_sequential_directions") return CudaAlgorithm::persistent_sequential_directions;
  if (name == "persistent_full_reduce") return CudaAlgorithm::persistent_full_reduce;
  if (name == "persistent_elementwise_stage") return CudaAlgorithm::persistent_elementwise_stage;
  if (name == "auto") return CudaAlgorithm::automatic;
  throw Error(ErrorCode::unsupported, "make_backend: algorithm '" + name + "' is not offered by backend 'cuda'");
}

// One CUDA device: the calls run on it (a DeviceGuard for the length of each call) and queue
// their work on the caller's stream, with the time loop of the chosen algorithm.
class CudaPlatform {
 public:
  CudaPlatform(Device device, CudaAlgorithm algorithm) : device_(device) {
    check_argument(!device.is_cpu(), "make_backend", "device", "must be a CUDA device, got cpu");
    const int count = cuda_device_count();
    if (device.index < 0 || device.index >= count) {
      throw Error(ErrorCode::unsupported, "make_backend: device " + to_string(device) +
                                              " is not present (" + std::to_string(count) +
                                              " CUDA devices found)");
    }
    choice_.algorithm = algorithm;
    choice_.device = device_limits(device.index);
  }
  const char* name() const { return "cuda"; }
  Device device() const { return device_; }
  // The persistent algorithm: what its plan refuses even at batch 1 (cell, projection, size).
  std::optional<std::string> unsupported_reason(const RNNDescriptor& desc, DType dtype) const {
    if (choice_.algorithm == CudaAlgorithm::standard || choice_.algorithm == CudaAlgorithm::automatic) {
      return std::nullopt;
    }
    // Only the current kernel is instantiated with half weights (persistent_time_loop.cpp).
    if (is_half(dtype) && (choice_.algorithm == CudaAlgorithm::persistent_full_reduce ||
                           choice_.algorithm == CudaAlgorithm::persistent_elementwise_stage)) {
      return std::string("algorithm '") +
             (choice_.algorithm == CudaAlgorithm::persistent_full_reduce ? "persistent_full_reduce"
                                                                         : "persistent_elementwise_stage") +
             "' does not run " + to_string(dtype) +
             " (cuda 'persistent', 'persistent_sequential_directions', 'standard' and 'auto' do)";
    }
    const engine::PersistentPlan plan = persistent_plan_for(desc, 1, dtype_size(dtype), choice_.device);
    if (plan.fits) return std::nullopt;
    return "algorithm 'persistent': " + plan.why_not;
  }
  DeviceGuard enter() const { return DeviceGuard(device_.index); }
  template <class T>
  CudaOps<T> ops(void* stream) const {
    return CudaOps<T>(static_cast<cudaStream_t>(stream), cublas_handle_for(device_.index), &choice_, headers_.get());
  }
  engine::ReserveHeader read_header(const engine::ReserveHeader* header, void* stream) const {
    return ops<float>(stream).read_header(header);
  }
  // Half calls (engine/half_calls.h): the conversions of kernels/half_kernels.h on the call's stream.
  void widen_half(DType half, const void* src, float* dst, std::int64_t n, void* stream) const {
    launch_widen_half(half, src, dst, n, static_cast<cudaStream_t>(stream));
  }
  void narrow_to_half(DType half, const float* src, void* dst, std::int64_t n, void* stream) const {
    launch_narrow_to_half(half, src, dst, n, static_cast<cudaStream_t>(stream));
  }
  void synchronize(void* stream) const {
    GPURNN_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)));
  }

 private:
  Device device_;
  AlgorithmChoice choice_;
  // What this backend wrote into reserves, so backward checks them without a read-back.
  // (A pointer: the platform is moved into its backend.)
  std::unique_ptr<engine::ReserveHeaderMirror> headers_ = std::make_unique<engine::ReserveHeaderMirror>();
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(Device device, const BackendOptions& options) {
  return std::make_unique<engine::StandardBackend<CudaPlatform>>(
      CudaPlatform(device, parse_algorithm(options.algorithm)));
}

}  // namespace gpurnn::cuda
