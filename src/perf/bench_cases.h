#pragma once
// What one benchmark case is, its name, its flop count and the grids: shared by gpurnn_bench
// (bench/, Google Benchmark) and `gpurnn bench` (src/cli/bench_command.cpp), so both binaries
// time the same shapes under the same names. Header-only and free of Google Benchmark.
//
// A case's name is `<cell>/<mode>/<backend>[_prepared][_<dtype>]/H:<h>/B:<b>/T:<t>/I:<i>` (the dtype
// only when not f32: cpu_prepared_bf16, onednn_bf16); bench/report pairs rows of different backends
// by replacing the third component, so keep that order.

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "gpurnn/dtype.h"
#include "gpurnn/rnn_descriptor.h"

namespace gpurnn::perf {

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
  CellKind cell = CellKind::lstm;
  Mode mode = Mode::infer;
  std::string backend = "cpu";
  std::int64_t hidden = 0;  // H
  std::int64_t batch = 0;   // B
  std::int64_t steps = 0;   // T
  std::int64_t input = 0;   // I
  int directions = 1;       // 2: bidirectional, named with a trailing /D:2
  // Calls on Backend::prepare's prepared weights, made (and packed by one untimed run) before
  // timing; the backend is then named "<backend>_prepared" (e.g. cpu_prepared).
  bool prepared = false;
  // The dtype of the call's tensors (x, states, weights, y and, for fwd_bwd, dy, dx, dh0, dc0;
  // the weight gradients of a half call are f32): f32, or bf16/f16 by the precision rule of
  // the README. Not f32: the backend is named "<backend>[_prepared]_<dtype>" (cpu_prepared_bf16).
  DType dtype = DType::f32;

  std::string name() const {
    return std::string(gpurnn::to_string(cell)) + "/" + perf::to_string(mode) + "/" + backend +
           (prepared ? "_prepared" : "") +
           (dtype != DType::f32 ? std::string("_") + gpurnn::to_string(dtype) : std::string()) +
           "/H:" + std::to_string(hidden) + "/B:" + std::to_string(batch) +
           "/T:" + std::to_string(steps) + "/I:" + std::to_string(input) + (directions == 2 ? "/D:2" : "");
  }

  // One layer with bias (as DeepBench and the oneDNN/cuDNN comparisons), one direction unless
  // `directions` is 2.
  RNNDescriptor descriptor() const {
    RNNDescriptor d;
    d.cell = cell;
    d.input_size = input;
    d.hidden_size = hidden;
    d.bidirectional = directions == 2;
    return d;
  }
};

// Forward flops: 2·T·B·G·H·(I_layer + H_out) per layer per direction (the two GEMMs; pointwise
// work and the projection's GEMM are left out, as DeepBench does).
inline double forward_flops(const RNNDescriptor& d, std::int64_t steps, std::int64_t batch) {
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

// The grids, every case in modes infer, train_fwd and fwd_bwd, I = H:
//   quick      LSTM H 256/512/1024 x B 1/32/128 and GRU H 512 x B 1/32, T 25: what CI-sized
//              machines (2 cores) run in a few minutes
//   deepbench  DeepBench's LSTM/GRU training shapes, H 512/1024/2048 x B 1/16/32/64/128 x
//              T 25/50/100 (hours on a CPU)
//   tiny       LSTM, GRU and tanh RNN H 16 x B 2, T 3: a smoke test of the machinery, not a measurement
// Throws std::invalid_argument for another name.
inline std::vector<BenchCase> make_grid(const std::string& grid, const std::string& backend) {
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
  } else if (grid == "lease") {
    // The GPU lease run (bench/gpu_lease.sh): LSTM and GRU at the design's small and large
    // batches, T = 100 (the persistent kernel's targets are for T >= 100), inference and a
    // training step, and FlashRNN's published shape (LSTM, B 16, T 1024, H 768).
    for (CellKind cell : {CellKind::lstm, CellKind::gru}) {
      for (std::int64_t h : {256, 512, 1024}) {
        for (std::int64_t b : {1, 8, 32, 128}) {
          for (Mode m : {Mode::infer, Mode::fwd_bwd}) cases.push_back(BenchCase{cell, m, backend, h, b, 100, h});
        }
      }
    }
    for (Mode m : {Mode::infer, Mode::fwd_bwd}) cases.push_back(BenchCase{CellKind::lstm, m, backend, 768, 16, 1024, 768});
    // Bidirectional LSTM at small batch: where cuda/persistent runs both directions in one
    // launch and cuda/persistent_sequential_directions one after the other.
    for (std::int64_t h : {512, 1024}) {
      for (std::int64_t b : {1, 8, 32}) {
        for (Mode m : {Mode::infer, Mode::fwd_bwd}) cases.push_back(BenchCase{CellKind::lstm, m, backend, h, b, 100, h, 2});
      }
    }
  } else if (grid == "tiny") {
    add(CellKind::lstm, 16, 2, 3);
    add(CellKind::gru, 16, 2, 3);
    add(CellKind::rnn_tanh, 16, 2, 3);
  } else {
    throw std::invalid_argument("unknown grid '" + grid + "' (expected quick, deepbench, lease or tiny)");
  }
  return cases;
}

// The median of `values` (the mean of the middle two for an even count); 0 when empty.
inline double median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : 0.5 * (values[mid - 1] + values[mid]);
}

// What a row reports, from the seconds one iteration of `c` took.
inline double us_per_step(const BenchCase& c, double seconds) {
  return seconds * 1e6 / static_cast<double>(c.steps);
}
inline double gflops_per_second(const BenchCase& c, double seconds) {
  return case_flops(c) * 1e-9 / seconds;
}

}  // namespace gpurnn::perf
