// The GPU backends, timed through the Backend interface with CUDA events on one stream:
// `cuda` (each of its algorithms) and `cudnn/<algo>` for every cuDNN algorithm this build has.
// Rows are named <cell>/<mode>/<backend>/<algo>/H:../B:../T:../I:.. (e.g.
// lstm/infer/cudnn/persist_static/H:512/B:1/T:25/I:512), so bench/report pairs them with the
// cpu rows and with each other; a bf16 or f16 row has the dtype after the algorithm
// (lstm/infer/cuda/persistent_bf16/...). The half rows (--dtypes) are the unidirectional LSTM
// shapes of the grid on cuda's standard, persistent and auto algorithms and cuDNN's standard,
// persist_static and persist_static_small_h (which one is best per shape is for the table to
// say; not persist_dynamic, whose NVRTC plan per shape and batch costs about a second each, and
// which PyTorch never picks): 312 rows beside the 620 f32 ones, so the lease run stays inside
// its budget.
//
// Per case, once, before timing: weights and inputs are random (never zeros), every buffer is
// allocated on the device, one untimed run warms up (and builds cuDNN's plans), and y is compared
// with the cpu backend's in the same dtype (relative error under 1e-4 in f32, 8u in bf16/f16 where
// a rounding of h may flip between backends; else the row is an error). A case the
// backend refuses (unsupported_reason, or a refusal at run time) becomes an error row saying why.
// Each iteration's time is the event time of the calls on the stream (UseManualTime).

#include <cuda_runtime.h>

#include <cstddef>
#include <exception>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_support.h"
#include "gpurnn/backend.h"
#include "gpurnn/device.h"
#include "gpurnn/tensor.h"
#include "perf/backend_case.h"

namespace gpurnn_bench {
namespace {

using gpurnn::Device;
using gpurnn::Tensor;

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

// A case built by perf::make_backend_case on this fixture's stream, and the events that time it.
struct GpuFixture {
  std::string name;
  std::string error;
  std::unique_ptr<gpurnn::perf::BackendCase> kase;
  cudaStream_t stream = nullptr;
  cudaEvent_t start = nullptr, stop = nullptr;

  ~GpuFixture() {
    // The case's buffers go back to a pool ordered on the legacy stream: let the work queued on
    // this stream finish before they do.
    if (stream != nullptr) (void)cudaStreamSynchronize(stream);
    kase.reset();
    if (start != nullptr) (void)cudaEventDestroy(start);
    if (stop != nullptr) (void)cudaEventDestroy(stop);
    if (stream != nullptr) (void)cudaStreamDestroy(stream);
  }

  // Seconds the calls of one iteration took on the stream.
  double timed_run() {
    check(cudaEventRecord(start, stream), "cudaEventRecord");
    kase->run();
    check(cudaEventRecord(stop, stream), "cudaEventRecord");
    check(cudaEventSynchronize(stop), "cudaEventSynchronize");
    float ms = 0.0F;
    check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
    return ms * 1e-3;
  }
};

// The cpu backend's y for c's shape (the same seeds make the same weights and x on every
// backend), computed once per shape: every GPU algorithm and mode of it is checked against it.
const Tensor& cpu_reference(const BenchCase& c) {
  static std::map<std::string, Tensor> cache;
  BenchCase on_cpu = c;
  on_cpu.backend = "cpu";
  on_cpu.mode = Mode::infer;
  auto it = cache.find(on_cpu.name());
  if (it == cache.end()) {
    const auto cpu = gpurnn::perf::make_backend_case(on_cpu, 0);
    cpu->run();
    it = cache.emplace(on_cpu.name(), cpu->y).first;
  }
  return it->second;
}

std::unique_ptr<GpuFixture> build_fixture(const BenchCase& c) {
  auto f = std::make_unique<GpuFixture>();
  f->name = c.name();
  check(cudaStreamCreateWithFlags(&f->stream, cudaStreamNonBlocking), "cudaStreamCreate");
  check(cudaEventCreate(&f->start), "cudaEventCreate");
  check(cudaEventCreate(&f->stop), "cudaEventCreate");
  // The device's buffers come from a pool ordered on the legacy default stream: finish their
  // allocation before the non-blocking stream uses them.
  f->kase = gpurnn::perf::make_backend_case(c, 0, f->stream);
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  if (!f->kase->unsupported.empty()) {
    f->error = "unsupported: " + f->kase->unsupported;
    return f;
  }

  // Warm-up (builds cuDNN's plans), then y against the cpu backend's on the same inputs (the
  // same seeds make the same weights and x on every backend).
  f->kase->run();
  check(cudaStreamSynchronize(f->stream), "cudaStreamSynchronize");
  const Tensor reference = cpu_reference(c).to(gpurnn::DType::f32);
  const Tensor y = f->kase->y.to(Device::cpu()).to(gpurnn::DType::f32);
  const double err = relative_error(y.data_as<float>(), reference.data_as<float>(), static_cast<std::size_t>(y.numel()));
  const double tolerance = gpurnn::is_half(c.dtype) ? 8 * gpurnn::unit_roundoff(c.dtype) : 1e-4;
  if (!(err < tolerance)) f->error = "y differs from the cpu backend's: relative error " + std::to_string(err);
  return f;
}

std::unique_ptr<GpuFixture> g_current;  // at most one case's buffers alive at a time

void run_case(benchmark::State& state, const BenchCase& c) {
  if (!g_current || g_current->name != c.name()) {
    g_current.reset();
    try {
      g_current = build_fixture(c);
    } catch (const std::exception& e) {
      g_current.reset();
      state.SkipWithError((std::string("setup failed: ") + e.what()).c_str());
      return;
    }
  }
  GpuFixture& f = *g_current;
  if (!f.error.empty()) {
    state.SkipWithError(f.error.c_str());
    return;
  }
  for (auto _ : state) {
    try {
      state.SetIterationTime(f.timed_run());
    } catch (const std::exception& e) {
      f.error = e.what();
      state.SkipWithError(f.error.c_str());
      break;
    }
  }
  set_counters(state, c);
}

}  // namespace

std::vector<std::string> gpu_benchmark_backends() {
  std::vector<std::string> names;
  if (gpurnn::cuda_device_count() == 0) return names;
  for (const std::string& backend : {std::string("cuda"), std::string("cudnn")}) {
    for (const std::string& algo : gpurnn::backend_algorithms(backend)) names.push_back(backend + "/" + algo);
  }
  return names;
}

namespace {

// The algorithms and shapes that get rows in a half dtype (see the header).
bool half_row(const std::string& backend, const BenchCase& c) {
  const bool algorithm = backend == "cuda/standard" || backend == "cuda/persistent" || backend == "cuda/auto" ||
                         (backend.rfind("cudnn/", 0) == 0 && backend != "cudnn/persist_dynamic");
  return algorithm && c.cell == gpurnn::CellKind::lstm && c.directions == 1;
}

}  // namespace

void register_gpu_benchmarks(const std::string& grid, const std::vector<gpurnn::DType>& dtypes) {
  for (gpurnn::DType dtype : dtypes) {
    for (const std::string& backend : gpu_benchmark_backends()) {
      for (BenchCase c : make_grid(grid, backend)) {
        if (gpurnn::is_half(dtype) && !half_row(backend, c)) continue;
        c.dtype = dtype;
        benchmark::RegisterBenchmark(c.name().c_str(), [c](benchmark::State& state) { run_case(state, c); })
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
}

}  // namespace gpurnn_bench
