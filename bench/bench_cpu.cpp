// The CPU backend, timed through the Backend interface (src/perf/backend_case.h sets a case up:
// every buffer allocated before the timing loop, so only the computation is timed).
//
// Google Benchmark calls a case's function several times while it settles on an iteration
// count; the case (weights, random inputs, buffers) is built on the first call and kept until
// another case runs, so setup and the finiteness check happen once per case and at most one
// case's buffers are alive at a time.

#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "bench_support.h"
#include "perf/backend_case.h"

namespace gpurnn_bench {
namespace {

using gpurnn::perf::BackendCase;

// A case built and run once: checks the outputs once and warms caches and BLAS threads.
// Returns the error ("" when none) that makes the case skip.
std::string build_and_check(const BenchCase& c, const BenchOptions& options,
                            std::unique_ptr<BackendCase>& out) {
  out = gpurnn::perf::make_backend_case(c, options.threads);
  if (!out->unsupported.empty()) return "unsupported: " + out->unsupported;
  out->run();
  return out->check_finite();
}

// The case whose buffers are alive (see the comment at the top), and its setup error.
std::unique_ptr<BackendCase> g_current;
std::string g_error;

void run_case(benchmark::State& state, const BenchCase& c, const BenchOptions& options) {
  if (!g_current || g_current->spec.name() != c.name()) {
    g_current.reset();  // free the previous case's buffers before allocating this one's
    try {
      g_error = build_and_check(c, options, g_current);
    } catch (const std::exception& e) {
      g_current.reset();
      state.SkipWithError((std::string("setup failed: ") + e.what()).c_str());
      return;
    }
  }
  if (!g_error.empty()) {
    state.SkipWithError(g_error.c_str());
    return;
  }
  BackendCase& f = *g_current;
  state.SetLabel("threads=" + std::to_string(options.threads));
  for (auto _ : state) {
    try {
      f.run();
    } catch (const std::exception& e) {
      g_error = e.what();
      state.SkipWithError(g_error.c_str());
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
  std::unique_ptr<BackendCase> f;
  if (std::string e = build_and_check(cpu_case, options, f); !e.empty()) {
    throw std::runtime_error("cpu backend: " + e);
  }
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
