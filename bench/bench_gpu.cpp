// The GPU backends, timed through the Backend interface with CUDA events on one stream:
// `cuda` (each of its algorithms) and `cudnn/<algo>` for every cuDNN algorithm this build has.
// Rows are named <cell>/<mode>/<backend>/<algo>/H:../B:../T:../I:.. (e.g.
// lstm/infer/cudnn/persist_static/H:512/B:1/T:25/I:512), so bench/report pairs them with the
// cpu rows and with each other.
//
// Per case, once, before timing: weights and inputs are random (never zeros), every buffer is
// allocated on the device, one untimed run warms up (and builds cuDNN's plans), and y is compared
// with the cpu backend's (relative error under 1e-4, else the row is an error). A case the
// backend refuses (unsupported_reason, or a refusal at run time) becomes an error row saying why.
// Each iteration's time is the event time of the calls on the stream (UseManualTime).

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <exception>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_support.h"
#include "gpurnn/backend.h"
#include "gpurnn/device.h"
#include "gpurnn/rnn_weights.h"
#include "gpurnn/tensor.h"

namespace gpurnn_bench {
namespace {

using gpurnn::Device;
using gpurnn::DType;
using gpurnn::ForwardMode;
using gpurnn::Shape;
using gpurnn::Tensor;

constexpr std::uint64_t kWeightSeed = 1234;
constexpr std::uint64_t kInputSeed = 42;

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

Tensor random_host(Shape shape, std::mt19937_64& rng) {
  Tensor t = Tensor::empty(shape, DType::f32);
  std::uniform_real_distribution<float> dist(-1.0F, 1.0F);
  float* p = t.data_as<float>();
  for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = dist(rng);
  return t;
}

Tensor device_bytes(std::size_t bytes, Device dev) {
  return Tensor::zeros({static_cast<std::int64_t>(bytes > 0 ? bytes : 1)}, DType::u8, dev);
}

double relative_error(const Tensor& a, const Tensor& b) {
  double diff = 0.0, norm = 0.0;
  for (std::int64_t i = 0; i < a.numel(); ++i) {
    const double x = a.data_as<float>()[i], y = b.data_as<float>()[i];
    diff += (x - y) * (x - y);
    norm += y * y;
  }
  return std::isfinite(diff) ? std::sqrt(diff / (norm > 0 ? norm : 1.0)) : INFINITY;
}

struct GpuFixture {
  std::string name;
  std::string error;
  Mode mode = Mode::infer;
  std::unique_ptr<gpurnn::Backend> backend;
  gpurnn::RNNWeights weights, grads;
  Tensor x, y, hn, cn, dy, dx, dh0, dc0, workspace, reserve;
  gpurnn::ForwardArgs fwd;
  gpurnn::BackwardDataArgs bwd_data;
  gpurnn::BackwardWeightsArgs bwd_weights;
  cudaStream_t stream = nullptr;
  cudaEvent_t start = nullptr, stop = nullptr;

  ~GpuFixture() {
    if (start != nullptr) (void)cudaEventDestroy(start);
    if (stop != nullptr) (void)cudaEventDestroy(stop);
    if (stream != nullptr) (void)cudaStreamDestroy(stream);
  }

  void run() {
    backend->forward(weights, fwd);
    if (mode == Mode::fwd_bwd) {
      backend->backward_data(weights, bwd_data);
      backend->backward_weights(weights, bwd_weights, grads);
    }
  }

  // Seconds the calls of one iteration took on the stream.
  double timed_run() {
    check(cudaEventRecord(start, stream), "cudaEventRecord");
    run();
    check(cudaEventRecord(stop, stream), "cudaEventRecord");
    check(cudaEventSynchronize(stop), "cudaEventSynchronize");
    float ms = 0.0F;
    check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
    return ms * 1e-3;
  }
};

std::unique_ptr<GpuFixture> build_fixture(const BenchCase& c) {
  auto f = std::make_unique<GpuFixture>();
  f->name = c.name();
  f->mode = c.mode;
  const gpurnn::RNNDescriptor desc = c.descriptor();
  f->backend = gpurnn::make_backend(c.backend);
  if (auto why = f->backend->unsupported_reason(desc, DType::f32)) {
    f->error = "unsupported: " + *why;
    return f;
  }
  const Device dev = f->backend->device();
  check(cudaStreamCreateWithFlags(&f->stream, cudaStreamNonBlocking), "cudaStreamCreate");
  check(cudaEventCreate(&f->start), "cudaEventCreate");
  check(cudaEventCreate(&f->stop), "cudaEventCreate");

  gpurnn::RNNWeights host_weights(desc, DType::f32);
  host_weights.init_uniform(kWeightSeed);
  f->weights = host_weights.to(dev);
  std::mt19937_64 rng(kInputSeed);
  const std::int64_t T = c.steps, B = c.batch;
  const std::int64_t states = static_cast<std::int64_t>(desc.num_layers) * desc.num_directions();
  const Tensor x_host = random_host({T, B, desc.input_size}, rng);
  f->x = x_host.to(dev);
  f->y = Tensor::zeros({T, B, desc.output_size()}, DType::f32, dev);
  f->hn = Tensor::zeros({states, B, desc.state_size()}, DType::f32, dev);
  if (desc.has_cell_state()) f->cn = Tensor::zeros({states, B, desc.hidden_size}, DType::f32, dev);

  const ForwardMode fmode = c.mode == Mode::infer ? ForwardMode::inference : ForwardMode::training;
  const gpurnn::SequenceShape shape{T, B, false};
  f->workspace = device_bytes(f->backend->workspace_size(desc, shape, DType::f32, fmode), dev);
  if (fmode == ForwardMode::training) {
    f->reserve = device_bytes(f->backend->reserve_size(desc, shape, DType::f32), dev);
  }
  f->fwd.mode = fmode;
  f->fwd.x = f->x;
  f->fwd.y = f->y;
  f->fwd.hn = f->hn;
  if (f->cn.defined()) f->fwd.cn = f->cn;
  f->fwd.workspace = f->workspace;
  if (f->reserve.defined()) f->fwd.reserve = f->reserve;
  f->fwd.stream = f->stream;

  if (c.mode == Mode::fwd_bwd) {
    f->grads = gpurnn::RNNWeights(desc, DType::f32, dev);
    f->dy = random_host(f->y.shape(), rng).to(dev);
    f->dx = Tensor::zeros(f->x.shape(), DType::f32, dev);
    f->dh0 = Tensor::zeros(f->hn.shape(), DType::f32, dev);
    if (f->cn.defined()) f->dc0 = Tensor::zeros(f->cn.shape(), DType::f32, dev);
    f->bwd_data.dy = f->dy;
    f->bwd_data.dx = f->dx;
    f->bwd_data.dh0 = f->dh0;
    if (f->dc0.defined()) f->bwd_data.dc0 = f->dc0;
    f->bwd_data.workspace = f->workspace;
    f->bwd_data.reserve = f->reserve;
    f->bwd_data.stream = f->stream;
    f->bwd_weights.x = f->x;
    f->bwd_weights.workspace = f->workspace;
    f->bwd_weights.reserve = f->reserve;
    f->bwd_weights.grad_mode = gpurnn::GradMode::overwrite;
    f->bwd_weights.stream = f->stream;
  }

  // Warm-up (builds cuDNN's plans), then y against the cpu backend's.
  f->run();
  check(cudaStreamSynchronize(f->stream), "cudaStreamSynchronize");
  auto cpu = gpurnn::make_backend("cpu");
  Tensor y_cpu = Tensor::empty(f->y.shape(), DType::f32);
  Tensor ws_cpu = Tensor::empty(
      {static_cast<std::int64_t>(cpu->workspace_size(desc, shape, DType::f32, ForwardMode::inference))}, DType::u8);
  gpurnn::ForwardArgs a;
  a.x = x_host;
  a.y = y_cpu;
  a.workspace = ws_cpu;
  cpu->forward(host_weights, a);
  const double err = relative_error(f->y.to(Device::cpu()), y_cpu);
  if (!(err < 1e-4)) f->error = "y differs from the cpu backend's: relative error " + std::to_string(err);
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

void register_gpu_benchmarks(const std::string& grid) {
  for (const std::string& backend : gpu_benchmark_backends()) {
    for (const BenchCase& c : make_grid(grid, backend)) {
      benchmark::RegisterBenchmark(c.name().c_str(), [c](benchmark::State& state) { run_case(state, c); })
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
}

}  // namespace gpurnn_bench
