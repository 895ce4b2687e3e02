// The CPU backend, timed through the Backend interface. Every buffer (outputs, workspace,
// reserve, gradients) is allocated before the timing loop, so only the computation is timed.
//
// Google Benchmark calls a case's function several times while it settles on an iteration
// count; the fixture (weights, random inputs, buffers) is built on the first call and kept
// until another case runs, so setup and the finiteness check happen once per case and at most
// one case's buffers are alive at a time.

#include <cmath>
#include <cstdint>
#include <exception>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>

#include "bench_support.h"
#include "gpurnn/backend.h"
#include "gpurnn/rnn_weights.h"
#include "gpurnn/tensor.h"

namespace gpurnn_bench {
namespace {

using gpurnn::ConstTensorView;
using gpurnn::DType;
using gpurnn::ForwardMode;
using gpurnn::Shape;
using gpurnn::Tensor;

constexpr std::uint64_t kWeightSeed = 1234;
constexpr std::uint64_t kInputSeed = 42;

// Uniform in [-1, 1]: never zeros, so no branch on a zero input can flatter a timing.
Tensor random_tensor(Shape shape, std::mt19937_64& rng) {
  Tensor t = Tensor::empty(shape, DType::f32);
  std::uniform_real_distribution<float> dist(-1.0F, 1.0F);
  float* p = t.data_as<float>();
  for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = dist(rng);
  return t;
}

// Raw bytes for workspace and reserve (at least one byte, so the view is never null).
Tensor byte_buffer(std::size_t bytes) {
  return Tensor::empty({static_cast<std::int64_t>(bytes > 0 ? bytes : 1)}, DType::u8);
}

// Empty string when every element of `t` is finite; else what is wrong and where.
std::string check_finite(const char* what, ConstTensorView t) {
  if (t.empty()) return {};
  const float* p = t.data_as<float>();
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    if (!std::isfinite(p[i])) {
      return std::string("non-finite value in ") + what + " at element " + std::to_string(i);
    }
  }
  return {};
}

struct Fixture {
  std::string name;
  std::string error;  // set when setup or the finiteness check failed

  std::unique_ptr<gpurnn::Backend> backend;
  gpurnn::RNNWeights weights;
  gpurnn::RNNWeights grads;
  Tensor x, y, hn, cn, workspace, reserve;   // forward
  Tensor dy, dx, dh0, dc0;                   // backward
  gpurnn::ForwardArgs fwd;
  gpurnn::BackwardDataArgs bwd_data;
  gpurnn::BackwardWeightsArgs bwd_weights;
  Mode mode = Mode::infer;

  // One timed iteration.
  void run() {
    backend->forward(weights, fwd);
    if (mode == Mode::fwd_bwd) {
      backend->backward_data(weights, bwd_data);
      backend->backward_weights(weights, bwd_weights, grads);
    }
  }

  std::string check_outputs() const {
    for (const auto& [what, t] : {std::pair<const char*, const Tensor*>{"y", &y}, {"hn", &hn},
                                  {"cn", &cn}, {"dx", &dx}, {"dh0", &dh0}, {"dc0", &dc0}}) {
      if (!t->defined()) continue;
      if (std::string e = check_finite(what, t->view()); !e.empty()) return e;
    }
    if (mode == Mode::fwd_bwd) return check_finite("weight gradients", grads.flat().view());
    return {};
  }
};

std::unique_ptr<Fixture> build_fixture(const BenchCase& c, const BenchOptions& options) {
  auto f = std::make_unique<Fixture>();
  f->name = c.name();
  f->mode = c.mode;
  const gpurnn::RNNDescriptor desc = c.descriptor();
  gpurnn::BackendOptions backend_options;
  backend_options.num_threads = options.threads;
  f->backend = gpurnn::make_backend(c.backend, backend_options);
  if (auto why = f->backend->unsupported_reason(desc, DType::f32)) {
    f->error = "unsupported: " + *why;
    return f;
  }

  f->weights = gpurnn::RNNWeights(desc, DType::f32);
  f->weights.init_uniform(kWeightSeed);
  std::mt19937_64 rng(kInputSeed);
  const std::int64_t T = c.steps, B = c.batch;
  const std::int64_t states = static_cast<std::int64_t>(desc.num_layers) * desc.num_directions();
  f->x = random_tensor({T, B, desc.input_size}, rng);
  f->y = Tensor::empty({T, B, desc.output_size()}, DType::f32);
  f->hn = Tensor::empty({states, B, desc.state_size()}, DType::f32);
  if (desc.has_cell_state()) f->cn = Tensor::empty({states, B, desc.hidden_size}, DType::f32);

  const ForwardMode fmode = c.mode == Mode::infer ? ForwardMode::inference : ForwardMode::training;
  const gpurnn::SequenceShape shape{T, B, false};
  f->workspace = byte_buffer(f->backend->workspace_size(desc, shape, DType::f32, fmode));
  if (fmode == ForwardMode::training) {
    f->reserve = byte_buffer(f->backend->reserve_size(desc, shape, DType::f32));
  }

  f->fwd.mode = fmode;
  f->fwd.x = f->x;
  f->fwd.y = f->y;
  f->fwd.hn = f->hn;
  if (f->cn.defined()) f->fwd.cn = f->cn;
  f->fwd.workspace = f->workspace;
  if (f->reserve.defined()) f->fwd.reserve = f->reserve;

  if (c.mode == Mode::fwd_bwd) {
    f->grads = gpurnn::RNNWeights(desc, DType::f32);
    f->dy = random_tensor(f->y.shape(), rng);
    f->dx = Tensor::empty(f->x.shape(), DType::f32);
    f->dh0 = Tensor::empty(f->hn.shape(), DType::f32);
    if (f->cn.defined()) f->dc0 = Tensor::empty(f->cn.shape(), DType::f32);
    f->bwd_data.dy = f->dy;
    f->bwd_data.dx = f->dx;
    f->bwd_data.dh0 = f->dh0;
    if (f->dc0.defined()) f->bwd_data.dc0 = f->dc0;
    f->bwd_data.workspace = f->workspace;
    f->bwd_data.reserve = f->reserve;
    f->bwd_weights.x = f->x;
    f->bwd_weights.workspace = f->workspace;
    f->bwd_weights.reserve = f->reserve;
    f->bwd_weights.grad_mode = gpurnn::GradMode::overwrite;
  }

  // One untimed run: checks the outputs once and warms caches and BLAS threads.
  f->run();
  f->error = f->check_outputs();
  return f;
}

// The case whose buffers are alive (see the comment at the top).
std::unique_ptr<Fixture> g_current;

void run_case(benchmark::State& state, const BenchCase& c, const BenchOptions& options) {
  const std::string name = c.name();
  if (!g_current || g_current->name != name) {
    g_current.reset();  // free the previous case's buffers before allocating this one's
    try {
      g_current = build_fixture(c, options);
    } catch (const std::exception& e) {
      state.SkipWithError((std::string("setup failed: ") + e.what()).c_str());
      return;
    }
  }
  Fixture& f = *g_current;
  if (!f.error.empty()) {
    state.SkipWithError(f.error.c_str());
    return;
  }
  state.SetLabel("threads=" + std::to_string(options.threads));
  for (auto _ : state) {
    try {
      f.run();
    } catch (const std::exception& e) {
      f.error = e.what();
      state.SkipWithError(f.error.c_str());
      break;
    }
    benchmark::ClobberMemory();
  }
  set_counters(state, c);
}

}  // namespace

CpuResults run_cpu_once(const BenchCase& c, const BenchOptions& options) {
  BenchCase cpu_case = c;
  cpu_case.backend = "cpu";
  std::unique_ptr<Fixture> f = build_fixture(cpu_case, options);
  if (!f->error.empty()) throw std::runtime_error("cpu backend: " + f->error);
  CpuResults r;
  r.weights = std::move(f->weights);
  r.grads = std::move(f->grads);
  r.x = std::move(f->x);
  r.dy = std::move(f->dy);
  r.y = std::move(f->y);
  r.hn = std::move(f->hn);
  r.cn = std::move(f->cn);
  r.dx = std::move(f->dx);
  r.dh0 = std::move(f->dh0);
  r.dc0 = std::move(f->dc0);
  return r;
}

void register_cpu_benchmarks(const std::vector<BenchCase>& cases, const BenchOptions& options) {
  for (const BenchCase& c : cases) {
    benchmark::RegisterBenchmark(c.name().c_str(),
                                 [c, options](benchmark::State& state) { run_case(state, c, options); })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace gpurnn_bench
