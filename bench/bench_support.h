#pragma once
// Shared pieces of gpurnn_bench: the counters every row carries and the registration functions
// of the backends. What a case is, its name, its flops and the grids live in
// src/perf/bench_cases.h, shared with `gpurnn bench`.

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "gpurnn/rnn_weights.h"
#include "gpurnn/tensor.h"
#include "perf/bench_cases.h"

namespace gpurnn_bench {

using gpurnn::perf::BenchCase;
using gpurnn::perf::case_flops;
using gpurnn::perf::make_grid;
using gpurnn::perf::Mode;

// Counters every row carries; rates are computed by the library from the iteration count and
// the real time (the benchmarks use UseRealTime()).
//   us_per_step  µs per timestep = real time per iteration / T (kInvert would make the console
//                print it with an "s" suffix; bench_main.cpp's display reporter shows it plain)
//   GFLOPs       case_flops / real time per iteration, in 1e9 flop/s
inline void set_counters(benchmark::State& state, const BenchCase& c) {
  using benchmark::Counter;
  state.counters["us_per_step"] =
      Counter(static_cast<double>(c.steps) * 1e-6, Counter::kIsIterationInvariantRate | Counter::kInvert);
  state.counters["GFLOPs"] = Counter(case_flops(c) * 1e-9, Counter::kIsIterationInvariantRate);
}

// ||a - b|| / ||b|| over `count` floats (b is the cpu backend's result); NaN when either holds a
// NaN, so a check written as !(error <= tolerance) rejects it.
inline double relative_error(const float* a, const float* b, std::size_t count) {
  double diff = 0.0, norm = 0.0;
  for (std::size_t k = 0; k < count; ++k) {
    diff += (static_cast<double>(a[k]) - b[k]) * (static_cast<double>(a[k]) - b[k]);
    norm += static_cast<double>(b[k]) * b[k];
  }
  return norm > 0.0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

struct BenchOptions {
  std::string grid = "quick";
  int threads = 0;  // BackendOptions::num_threads; 0 = the library default
};

// bench_cpu.cpp: registers every case of `cases` (backend "cpu") with Google Benchmark.
void register_cpu_benchmarks(const std::vector<BenchCase>& cases, const BenchOptions& options);
// floor/read/MiB:4 and :16, one thread reading W_hh-sized buffers (bench_floor.cpp).
void register_floor_benchmarks();
// callers/<cell>/infer/...: 1 and 4 threads calling RNN::forward on one model (bench_callers.cpp).
void register_caller_benchmarks(const BenchOptions& options);

// The cpu backend's results for one case, from the inputs its benchmark times (weights from
// perf::kWeightSeed, x and dy from perf::kInputSeed, no initial state): what a rival is checked against.
// Backward outputs are set for Mode::fwd_bwd only. Every tensor and the weights are in the case's
// dtype (BenchCase::dtype); the weight gradients of a bf16/f16 case are f32.
struct CpuResults {
  gpurnn::RNNWeights weights, grads;
  gpurnn::Tensor x, dy;
  gpurnn::Tensor y, hn, cn;    // cn: LSTM only
  gpurnn::Tensor dx, dh0, dc0;  // dc0: LSTM only
};
CpuResults run_cpu_once(const BenchCase& c, const BenchOptions& options);

#if defined(GPURNN_BENCH_HAVE_ONEDNN)
// bench_onednn.cpp: registers every one-direction case of `cases` on the weights, f32 or bf16, with
// Google Benchmark (backend "onednn": rows onednn and onednn_bf16).
void register_onednn_benchmarks(const std::vector<BenchCase>& cases, const BenchOptions& options);
#endif

// bench_gpu.cpp (built with CUDA): the GPU backends this build and machine have, as
// "<backend>/<algo>" (cuda/standard, cudnn/persist_static, ...; none without a device), and
// the registration of `grid` for each of them.
std::vector<std::string> gpu_benchmark_backends();
// Every cuda/* and cudnn/* algorithm on `grid` in each of `dtypes` (bf16/f16: bench_gpu.cpp's
// half rows only).
void register_gpu_benchmarks(const std::string& grid, const std::vector<gpurnn::DType>& dtypes);

}  // namespace gpurnn_bench
