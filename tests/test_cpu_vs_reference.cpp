// The CPU backend against the naive f64 reference (tests/reference), across the sweep of
// cell kinds, sizes, layers, directions, lengths, bias and projection; and the f32 gradients
// against the f64 ones. Outputs, workspace and reserve are poisoned before each run.

#include <gtest/gtest.h>

#include "sweep_cases.h"
#include "test_support.h"

namespace gpurnn::testing {
namespace {

constexpr std::int64_t kSteps = 6;
constexpr std::int64_t kBatch = 4;
const std::vector<int> kRaggedLengths = {3, kSteps, 1, 5};

struct Inputs {
  FullRunInputs run;
  std::vector<int> lengths;
};

// Random inputs for T steps and B = lengths.size() sequences; `ragged` passes the lengths.
Inputs make_inputs(const RNNDescriptor& d, std::int64_t steps, const std::vector<int>& lengths,
                   bool ragged, DType dt, std::uint64_t seed) {
  const std::int64_t states = static_cast<std::int64_t>(d.num_layers) * d.num_directions();
  const auto batch = static_cast<std::int64_t>(lengths.size());
  Inputs in;
  in.run.x = random_tensor({steps, batch, d.input_size}, dt, seed, 1);
  in.run.h0 = random_tensor({states, batch, d.state_size()}, dt, seed, 2, 0.5);
  if (d.has_cell_state()) in.run.c0 = random_tensor({states, batch, d.hidden_size}, dt, seed, 3, 0.5);
  in.run.dy = random_tensor({steps, batch, d.output_size()}, dt, seed, 4);
  in.run.dhn = random_tensor({states, batch, d.state_size()}, dt, seed, 5);
  if (d.has_cell_state()) in.run.dcn = random_tensor({states, batch, d.hidden_size}, dt, seed, 6);
  in.lengths = lengths;
  if (ragged) {
    const std::vector<std::int32_t> l32(lengths.begin(), lengths.end());
    in.run.lengths = Tensor::from_host<std::int32_t>({batch}, l32.data());
  }
  return in;
}

// Forward (both modes) in f64 and f32 against the reference; f32 gradients against f64.
void expect_matches_reference(const RNNDescriptor& desc, std::int64_t steps,
                              const std::vector<int>& lengths, bool ragged,
                              const BackendOptions& options = {}) {
  const std::unique_ptr<Backend> cpu = make_backend("cpu", options);
  RNNWeights w64(desc, DType::f64);
  w64.init_uniform(11);
  const Inputs in = make_inputs(desc, steps, lengths, ragged, DType::f64, 7);
  const auto batch = static_cast<int>(lengths.size());

  const std::vector<double> h0 = to_vector(in.run.h0);
  const std::vector<double> c0 = in.run.c0.defined() ? to_vector(in.run.c0) : std::vector<double>();
  const gpurnn_ref::Result ref = gpurnn_ref::forward(
      reference_config(desc), reference_params(w64), to_vector(in.run.x), static_cast<int>(steps),
      batch, in.lengths, &h0, desc.has_cell_state() ? &c0 : nullptr);

  for (ForwardMode mode : {ForwardMode::inference, ForwardMode::training}) {
    SCOPED_TRACE(mode == ForwardMode::training ? "training" : "inference");
    FullRunInputs run = in.run;
    run.mode = mode;
    const FullRun r64 = full_run(*cpu, w64, run);
    EXPECT_LT(relative_error(to_vector(r64.y), ref.y), 1e-12) << "y, f64";
    EXPECT_LT(relative_error(to_vector(r64.hn), ref.hn), 1e-12) << "hn, f64";
    if (desc.has_cell_state()) {
      EXPECT_LT(relative_error(to_vector(r64.cn), ref.cn), 1e-12) << "cn, f64";
    }

    RNNWeights w32(desc, DType::f32);
    w32.flat() = w64.flat().to(DType::f32);
    FullRunInputs run32 = run;
    for (Tensor* t : {&run32.x, &run32.h0, &run32.c0, &run32.dy, &run32.dhn, &run32.dcn}) {
      if (t->defined()) *t = t->to(DType::f32);
    }
    const FullRun r32 = full_run(*cpu, w32, run32);
    EXPECT_LT(relative_error(to_vector(r32.y), ref.y), 1e-5) << "y, f32";
    EXPECT_LT(relative_error(to_vector(r32.hn), ref.hn), 1e-5) << "hn, f32";
    if (desc.has_cell_state()) {
      EXPECT_LT(relative_error(to_vector(r32.cn), ref.cn), 1e-5) << "cn, f32";
    }

    if (mode == ForwardMode::training) {
      EXPECT_LT(relative_error(r32.dx, r64.dx), 1e-4) << "dx, f32 vs f64";
      EXPECT_LT(relative_error(r32.dh0, r64.dh0), 1e-4) << "dh0, f32 vs f64";
      if (desc.has_cell_state()) {
        EXPECT_LT(relative_error(r32.dc0, r64.dc0), 1e-4) << "dc0, f32 vs f64";
      }
      EXPECT_LT(relative_error(r32.dweights.flat(), r64.dweights.flat()), 1e-4) << "dW, f32 vs f64";
      EXPECT_TRUE(all_finite(r64.dweights.flat()));
    }
  }
}

class CpuVsReference : public ::testing::TestWithParam<SweepCase> {};

TEST_P(CpuVsReference, ForwardMatchesNaiveReferenceInF32AndF64) {
  const SweepCase& c = GetParam();
  expect_matches_reference(c.desc, kSteps, c.ragged ? kRaggedLengths : std::vector<int>(kBatch, kSteps),
                           c.ragged);
}

INSTANTIATE_TEST_SUITE_P(Sweep, CpuVsReference, ::testing::ValuesIn(sweep_cases({1, 7, 65, 256}, 3)),
                         SweepCaseName());

// Batch 1 (the per-step products become GEMVs) and a single step, for every cell kind.
TEST(CpuVsReferenceEdges, BatchOneAndSingleStep) {
  for (const SweepCase& c : sweep_cases({9}, 2)) {
    if (!c.desc.bias) continue;
    SCOPED_TRACE(c.name());
    expect_matches_reference(c.desc, 5, {c.ragged ? 3 : 5}, c.ragged);
    expect_matches_reference(c.desc, 1, {1, 1, 1}, c.ragged);
  }
}

// A batch large enough that the f32 steps split their rows, and the bias gradients their
// column blocks, over 2 threads (cpu_ops.cpp for_each_item: at least 8,192 elements), with
// ragged lengths, and batch 1, for every cell kind, with and without a projection and in both
// directions.
TEST(CpuVsReferenceThreads, StepsSplitOverTwoThreadsMatchTheReference) {
  BackendOptions two_threads;
  two_threads.num_threads = 2;
  std::vector<int> lengths(48);
  for (std::size_t b = 0; b < lengths.size(); ++b) lengths[b] = 1 + static_cast<int>((b * 7) % 5);
  lengths[5] = lengths[17] = 5;
  for (CellKind cell : {CellKind::lstm, CellKind::gru, CellKind::rnn_tanh, CellKind::rnn_sigmoid,
                        CellKind::rnn_relu}) {
    for (const bool bidirectional : {false, true}) {
      RNNDescriptor d;
      d.cell = cell;
      d.input_size = 16;
      d.hidden_size = 200;  // 4 column blocks of the LSTM's 800 gates, the last one partial
      d.bidirectional = bidirectional;
      if (cell == CellKind::lstm && bidirectional) d.proj_size = 72;
      SCOPED_TRACE(to_string(d));
      expect_matches_reference(d, 5, lengths, true, two_threads);
      // Batch 1: the per-step products are split over the threads (gemv_f32.h), 200 and 800
      // outputs in blocks of 64, inner sizes 200 and 800 in 16 lanes and a tail.
      expect_matches_reference(d, 5, {5}, false, two_threads);
    }
  }
}

// Batch-first input gives the transposed result of time-major input, for every cell kind.
TEST(CpuBatchFirst, EqualsTimeMajorTransposed) {
  const std::unique_ptr<Backend> cpu = make_backend("cpu");
  for (const SweepCase& c : sweep_cases({5}, 2)) {
    if (!c.ragged || !c.desc.bias) continue;
    RNNWeights w(c.desc, DType::f64);
    w.init_uniform(3);
    const Inputs in = make_inputs(c.desc, kSteps, kRaggedLengths, true, DType::f64, 9);
    const FullRun tm = full_run(*cpu, w, in.run);

    auto transpose = [](const Tensor& t) {  // [A, B, F] -> [B, A, F]
      Tensor out = Tensor::empty({t.dim(1), t.dim(0), t.dim(2)}, t.dtype());
      for (std::int64_t i = 0; i < t.dim(0); ++i)
        for (std::int64_t j = 0; j < t.dim(1); ++j)
          for (std::int64_t k = 0; k < t.dim(2); ++k)
            out.data_as<double>()[(j * t.dim(0) + i) * t.dim(2) + k] =
                t.data_as<double>()[(i * t.dim(1) + j) * t.dim(2) + k];
      return out;
    };
    FullRunInputs bf = in.run;
    bf.batch_first = true;
    bf.x = transpose(in.run.x);
    bf.dy = transpose(in.run.dy);
    const FullRun r = full_run(*cpu, w, bf);
    EXPECT_EQ(to_vector(r.y), to_vector(transpose(tm.y))) << c.name();
    EXPECT_EQ(to_vector(r.hn), to_vector(tm.hn)) << c.name();
    EXPECT_EQ(to_vector(r.dx), to_vector(transpose(tm.dx))) << c.name();
    EXPECT_EQ(to_vector(r.dweights.flat()), to_vector(tm.dweights.flat())) << c.name();
  }
}

}  // namespace
}  // namespace gpurnn::testing
