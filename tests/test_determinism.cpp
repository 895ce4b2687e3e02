// The same call twice gives bit-identical results; accumulate adds exactly what overwrite writes;
// weights changed in place between calls are the ones the next call uses (the cpu backend packs
// W_hh once per layer call, never caching the packed copy by pointer).

#include <gtest/gtest.h>

#include "test_support.h"

namespace gpurnn::testing {
namespace {

RNNDescriptor model(CellKind cell) {
  RNNDescriptor d;
  d.cell = cell;
  d.input_size = 24;
  d.hidden_size = 40;
  d.num_layers = 2;
  d.bidirectional = true;
  d.proj_size = cell == CellKind::lstm ? 16 : 0;
  d.dropout = 0.2;
  return d;
}

FullRunInputs inputs(const RNNDescriptor& d) {
  FullRunInputs in;
  in.x = random_tensor({12, 5, d.input_size}, DType::f32, 6, 1);
  const std::int32_t lengths[5] = {12, 4, 9, 1, 12};
  in.lengths = Tensor::from_host<std::int32_t>({5}, lengths);
  in.dy = random_tensor({12, 5, d.output_size()}, DType::f32, 6, 2);
  in.dropout_seed = 5;
  return in;
}

TEST(Determinism, SameCallTwiceIsBitIdentical) {
  for (CellKind cell : {CellKind::rnn_relu, CellKind::lstm, CellKind::gru}) {
    const RNNDescriptor d = model(cell);
    RNNWeights w(d, DType::f32);
    w.init_uniform(1);
    BackendOptions two_threads;
    two_threads.num_threads = 2;
    const std::unique_ptr<Backend> cpu = make_backend("cpu", two_threads);
    const FullRun a = full_run(*cpu, w, inputs(d));
    const FullRun b = full_run(*cpu, w, inputs(d));
    EXPECT_EQ(to_vector(a.y), to_vector(b.y)) << to_string(cell);
    EXPECT_EQ(to_vector(a.hn), to_vector(b.hn)) << to_string(cell);
    EXPECT_EQ(to_vector(a.dx), to_vector(b.dx)) << to_string(cell);
    EXPECT_EQ(to_vector(a.dh0), to_vector(b.dh0)) << to_string(cell);
    EXPECT_EQ(to_vector(a.dweights.flat()), to_vector(b.dweights.flat())) << to_string(cell);
  }
}

TEST(Determinism, WeightsChangedInPlaceAreUsedByTheNextCall) {
  for (CellKind cell : {CellKind::lstm, CellKind::gru}) {
    const RNNDescriptor d = model(cell);
    RNNWeights w(d, DType::f32);
    w.init_uniform(1);
    RNNWeights fresh(d, DType::f32);
    fresh.init_uniform(2);
    const std::unique_ptr<Backend> cpu = make_backend("cpu", {});
    const FullRun before = full_run(*cpu, w, inputs(d));
    w.init_uniform(2);  // same storage, new values
    const FullRun changed = full_run(*cpu, w, inputs(d));
    const FullRun expected = full_run(*make_backend("cpu", {}), fresh, inputs(d));
    EXPECT_NE(to_vector(before.y), to_vector(changed.y)) << to_string(cell);
    EXPECT_EQ(to_vector(changed.y), to_vector(expected.y)) << to_string(cell);
    EXPECT_EQ(to_vector(changed.dx), to_vector(expected.dx)) << to_string(cell);
    EXPECT_EQ(to_vector(changed.dweights.flat()), to_vector(expected.dweights.flat())) << to_string(cell);
  }
}

// backward_weights with GradMode::accumulate onto a copy of the gradients gives twice them, in
// `dtype` (f32 runs the weight-gradient GEMMs through oneDNN's matmul with a sum post-op where
// oneDNN is built in, f64 through OpenBLAS) to relative error `tolerance`.
void expect_accumulate_doubles(DType dtype, double tolerance) {
  const RNNDescriptor d = model(CellKind::lstm);
  RNN rnn(d, dtype, "cpu", 3);
  const FullRunInputs in = inputs(d);
  SequenceInputs seq;
  seq.lengths = in.lengths;
  rnn.forward_train(in.x.to(dtype), seq, 5);
  const RNNGradients g = rnn.backward(in.dy.to(dtype));

  // backward_weights again on the same reserve, accumulating onto a copy of the gradients.
  RNNWeights acc = g.dweights.clone();
  Backend& cpu = rnn.backend();
  const SequenceShape shape{12, 5, false};
  Tensor workspace = poisoned_bytes(cpu.workspace_size(d, shape, dtype, ForwardMode::training));
  Tensor reserve = poisoned_bytes(cpu.reserve_size(d, shape, dtype));
  const Tensor x = in.x.to(dtype);
  Tensor y = poisoned({12, 5, d.output_size()}, dtype);
  ForwardArgs f;
  f.mode = ForwardMode::training;
  f.x = x.view();
  f.lengths = in.lengths.view();
  f.y = y.view();
  f.workspace = workspace.view();
  f.reserve = reserve.view();
  f.dropout_seed = 5;
  cpu.forward(rnn.weights(), f);
  const Tensor dy = in.dy.to(dtype);
  Tensor dx = poisoned(x.shape(), dtype);
  BackwardDataArgs bd;
  bd.lengths = in.lengths.view();
  bd.dy = dy.view();
  bd.dx = dx.view();
  bd.workspace = workspace.view();
  bd.reserve = reserve.view();
  cpu.backward_data(rnn.weights(), bd);
  BackwardWeightsArgs bw;
  bw.x = x.view();
  bw.workspace = workspace.view();
  bw.reserve = reserve.view();
  bw.grad_mode = GradMode::accumulate;
  cpu.backward_weights(rnn.weights(), bw, acc);

  const std::vector<double> once = to_vector(g.dweights.flat());
  const std::vector<double> twice = to_vector(acc.flat());
  std::vector<double> doubled(once.size());
  for (std::size_t k = 0; k < once.size(); ++k) doubled[k] = 2 * once[k];
  EXPECT_LT(relative_error(twice, doubled), tolerance) << to_string(dtype);
  EXPECT_EQ(to_vector(dx), to_vector(g.dx)) << to_string(dtype);
}

TEST(Determinism, AccumulateAddsToExistingGradients) {
  expect_accumulate_doubles(DType::f64, 1e-14);
  expect_accumulate_doubles(DType::f32, 1e-6);
}

}  // namespace
}  // namespace gpurnn::testing
