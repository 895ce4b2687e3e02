#include "cpu/cpu_backend.h"

#include "cpu/blas.h"
#include "cpu/cpu_ops.h"
#include "cpu/packed_gemm.h"
#include "cpu/worker_pool.h"
#include "core/half_arrays.h"
#include "core/thread_count.h"
#include "engine/standard_backend.h"

namespace gpurnn::cpu {
namespace {

// The host: OpenBLAS (and oneDNN, when built with it) GEMMs and the steps' loops, on the worker
// pool with the backend's thread count (num_threads = 1: the calling thread alone).
class CpuPlatform {
 public:
  explicit CpuPlatform(const BackendOptions& options) : num_threads_(options.num_threads) {
    detail::check_thread_count(options.num_threads, "make_backend", "options.num_threads");
  }
  const char* name() const { return "cpu"; }
  Device device() const { return Device::cpu(); }
  std::optional<std::string> unsupported_reason(const RNNDescriptor&, DType) const {
    return std::nullopt;
  }
  struct NoScope {};
  NoScope enter() const { return {}; }
  template <class T>
  CpuOps<T> ops(void* /*stream*/) const {
    use_cpu_threads(num_threads_);
    return {};
  }
  engine::ReserveHeader read_header(const engine::ReserveHeader* header, void*) const {
    return *header;
  }
  // Half calls (engine/half_calls.h) on host memory.
  void widen_half(DType half, const void* src, float* dst, std::int64_t n, void* /*stream*/) const {
    detail::widen_half(half, src, dst, n);
  }
  void narrow_to_half(DType half, const float* src, void* dst, std::int64_t n, void* /*stream*/) const {
    detail::narrow_to_half(half, src, dst, n);
  }
  void synchronize(void* /*stream*/) const {}

 private:
  int num_threads_;
};

}  // namespace

void use_cpu_threads(int num_threads) {
  // Every parallel loop runs on the worker pool (worker_pool.h); OpenBLAS's and OpenMP's own
  // pools stay at one thread, so nothing else spins on the cores.
  set_parallel_threads(num_threads);
  set_blas_threads(1);
#if defined(GPURNN_HAVE_ONEDNN)
  set_onednn_threads(1);
#endif
}

std::unique_ptr<Backend> make_cpu_backend(const BackendOptions& options) {
  return std::make_unique<engine::StandardBackend<CpuPlatform>>(CpuPlatform(options));
}

}  // namespace gpurnn::cpu
