#pragma once
// Shared pieces of gpurnn_bench: what one benchmark case is, its name, its flop count, the
// grids, and the counters every row carries. Backends register their cases from these.
//
// A case's name is `<cell>/<mode>/<backend>/H:<h>/B:<b>/T:<t>/I:<i>`; bench/report pairs rows
// of different backends by replacing the third component, so keep that order.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "gpurnn/rnn_descriptor.h"

namespace gpurnn_bench {

enum class Mode {
  infer,      // forward, ForwardMode::inference
  train_fwd,  // forward, ForwardMode::training (fills the reserve)
  fwd_bwd,    // training forward + backward_data + backward_weights
};

inline const char* to_string(Mode mode) {
  switch (mode) {
    case Mode::infer: return "infer";
    case Mode::train_fwd: return "train_fwd";
    case Mode::fwd_bwd: return "fwd_bwd";
  }
  return "?";
}

struct BenchCase {
  gpurnn::CellKind cell = gpurnn::CellKind::lstm;
  Mode mode = Mode::infer;
  std::string backend = "cpu";
  std::int64_t hidden = 0;  // H
  std::int64_t batch = 0;   // B
  std::int64_t steps = 0;   // T
  std::int64_t input = 0;   // I

  std::string name() const {
    return std::string(gpurnn::to_string(cell)) + "/" + to_string(mode) + "/" + backend +
           "/H:" + std::to_string(hidden) + "/B:" + std::to_string(batch) +
           "/T:" + std::to_string(steps) + "/I:" + std::to_string(input);
  }

  // One layer, one direction, with bias (as DeepBench and the oneDNN/cuDNN comparisons).
  gpurnn::RNNDescriptor descriptor() const {
    gpurnn::RNNDescriptor d;
    d.cell = cell;
    d.input_size = input;
    d.hidden_size = hidden;
    return d;
  }
};

// Forward flops: 2·T·B·G·H·(I_layer + H_out) per layer per direction (the two GEMMs; pointwise
// work and the projection's GEMM are left out, as DeepBench does).
inline double forward_flops(const gpurnn::RNNDescriptor& d, std::int64_t steps, std::int64_t batch) {
  double total = 0.0;
  for (int layer = 0; layer < d.num_layers; ++layer) {
    const double per_direction = 2.0 * static_cast<double>(steps) * static_cast<double>(batch) *
                                 d.gates() * static_cast<double>(d.hidden_size) *
                                 static_cast<double>(d.layer_input_size(layer) + d.state_size());
    total += per_direction * d.num_directions();
  }
  return total;
}

// Flops of one iteration of the case: forward, or 3× forward for fwd_bwd (backward data and
// backward weights each cost about one forward).
inline double case_flops(const BenchCase& c) {
  const double fwd = forward_flops(c.descriptor(), c.steps, c.batch);
  return c.mode == Mode::fwd_bwd ? 3.0 * fwd : fwd;
}

// Counters every row carries; rates are computed by the library from the iteration count and
// the real time (the benchmarks use UseRealTime()).
//   us_per_step  µs per timestep = real time per iteration / T (the console prints it with an
//                "s" suffix because of kInvert; the value is in µs)
//   GFLOPs       case_flops / real time per iteration, in 1e9 flop/s
inline void set_counters(benchmark::State& state, const BenchCase& c) {
  using benchmark::Counter;
  state.counters["us_per_step"] =
      Counter(static_cast<double>(c.steps) * 1e-6, Counter::kIsIterationInvariantRate | Counter::kInvert);
  state.counters["GFLOPs"] = Counter(case_flops(c) * 1e-9, Counter::kIsIterationInvariantRate);
}

// The grids. quick: what CI-sized machines (2 cores) run in a few minutes. deepbench: DeepBench's
// LSTM/GRU training shapes (hours on a CPU). Throws std::invalid_argument for another name.
inline std::vector<BenchCase> make_grid(const std::string& grid, const std::string& backend) {
  using gpurnn::CellKind;
  const Mode modes[] = {Mode::infer, Mode::train_fwd, Mode::fwd_bwd};
  std::vector<BenchCase> cases;
  auto add = [&](CellKind cell, std::int64_t h, std::int64_t b, std::int64_t t) {
    for (Mode m : modes) cases.push_back(BenchCase{cell, m, backend, h, b, t, h});
  };
  if (grid == "quick") {
    for (std::int64_t h : {256, 512, 1024}) {
      for (std::int64_t b : {1, 32, 128}) add(CellKind::lstm, h, b, 25);
    }
    for (std::int64_t b : {1, 32}) add(CellKind::gru, 512, b, 25);
  } else if (grid == "deepbench") {
    for (CellKind cell : {CellKind::lstm, CellKind::gru}) {
      for (std::int64_t h : {512, 1024, 2048}) {
        for (std::int64_t b : {1, 16, 32, 64, 128}) {
          for (std::int64_t t : {25, 50, 100}) add(cell, h, b, t);
        }
      }
    }
  } else {
    throw std::invalid_argument("unknown grid '" + grid + "' (expected quick or deepbench)");
  }
  return cases;
}

struct BenchOptions {
  std::string grid = "quick";
  int threads = 0;  // BackendOptions::num_threads; 0 = the library default
};

// bench_cpu.cpp: registers every case of `cases` (backend "cpu") with Google Benchmark.
void register_cpu_benchmarks(const std::vector<BenchCase>& cases, const BenchOptions& options);

// bench_gpu.cpp (built with CUDA): the GPU backends this build and machine have, as
// "<backend>/<algo>" (cuda/standard, cudnn/persist_static, ...; none without a device), and
// the registration of `grid` for each of them.
std::vector<std::string> gpu_benchmark_backends();
void register_gpu_benchmarks(const std::string& grid);

}  // namespace gpurnn_bench
