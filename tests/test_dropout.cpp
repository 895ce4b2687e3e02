// Inter-layer dropout: applied in training mode only, between layers only, with a mask that is
// a pure function of (seed, layer, element), matched against the reference given that mask.

#include <gtest/gtest.h>

#include "gpurnn/detail/counter_random.h"
#include "test_support.h"

namespace gpurnn::testing {
namespace {

RNNDescriptor stacked(CellKind cell, double dropout) {
  RNNDescriptor d;
  d.cell = cell;
  d.input_size = 5;
  d.hidden_size = 6;
  d.num_layers = 3;
  d.bidirectional = true;
  d.dropout = dropout;
  return d;
}

FullRunInputs inputs(const RNNDescriptor& d, ForwardMode mode, std::uint64_t seed) {
  FullRunInputs in;
  in.x = random_tensor({7, 4, d.input_size}, DType::f64, 1, 1);
  const std::int32_t lengths[4] = {7, 2, 5, 1};
  in.lengths = Tensor::from_host<std::int32_t>({4}, lengths);
  in.dy = random_tensor({7, 4, d.output_size()}, DType::f64, 1, 2);
  in.mode = mode;
  in.dropout_seed = seed;
  return in;
}

TEST(Dropout, TrainingMatchesReferenceWithTheSameMask) {
  for (CellKind cell : {CellKind::rnn_tanh, CellKind::lstm, CellKind::gru}) {
    const RNNDescriptor d = stacked(cell, 0.4);
    RNNWeights w(d, DType::f64);
    w.init_uniform(2);
    const FullRunInputs in = inputs(d, ForwardMode::training, 1234);
    const FullRun r = full_run(*make_backend("cpu"), w, in);

    const std::int64_t B = 4, width = d.output_size();
    const gpurnn_ref::DropoutScale mask = [&](int layer, int t, int b, int j) {
      const auto index = static_cast<std::uint64_t>((t * B + b) * width + j);
      return detail::dropout_scale(1234, static_cast<std::uint64_t>(layer), index, d.dropout);
    };
    const gpurnn_ref::Result ref =
        gpurnn_ref::forward(reference_config(d), reference_params(w), to_vector(in.x), 7, 4,
                            {7, 2, 5, 1}, nullptr, nullptr, mask);
    EXPECT_LT(relative_error(to_vector(r.y), ref.y), 1e-12) << to_string(cell);
    EXPECT_LT(relative_error(to_vector(r.hn), ref.hn), 1e-12) << to_string(cell);
  }
}

TEST(Dropout, ChangesTrainingOutputAndDependsOnlyOnSeed) {
  const RNNDescriptor d = stacked(CellKind::lstm, 0.5);
  RNNWeights w(d, DType::f64);
  w.init_uniform(2);
  const std::unique_ptr<Backend> cpu = make_backend("cpu");
  const FullRun inference = full_run(*cpu, w, inputs(d, ForwardMode::inference, 1));
  const FullRun a = full_run(*cpu, w, inputs(d, ForwardMode::training, 1));
  const FullRun a_again = full_run(*cpu, w, inputs(d, ForwardMode::training, 1));
  const FullRun b = full_run(*cpu, w, inputs(d, ForwardMode::training, 2));
  EXPECT_GT(relative_error(a.y, inference.y), 1e-3);
  EXPECT_GT(relative_error(a.y, b.y), 1e-3);
  EXPECT_EQ(to_vector(a.y), to_vector(a_again.y));
  EXPECT_EQ(to_vector(a.dweights.flat()), to_vector(a_again.dweights.flat()));
}

TEST(Dropout, ZeroProbabilityTrainingEqualsInference) {
  const RNNDescriptor d = stacked(CellKind::gru, 0.0);
  RNNWeights w(d, DType::f64);
  w.init_uniform(2);
  const std::unique_ptr<Backend> cpu = make_backend("cpu");
  const FullRun inference = full_run(*cpu, w, inputs(d, ForwardMode::inference, 9));
  const FullRun training = full_run(*cpu, w, inputs(d, ForwardMode::training, 9));
  EXPECT_EQ(to_vector(inference.y), to_vector(training.y));
  EXPECT_EQ(to_vector(inference.hn), to_vector(training.hn));
}

TEST(Dropout, NeverAppliedAfterTheLastLayer) {
  RNNDescriptor d = stacked(CellKind::rnn_tanh, 0.9);
  d.num_layers = 1;
  RNNWeights w(d, DType::f64);
  w.init_uniform(2);
  const std::unique_ptr<Backend> cpu = make_backend("cpu");
  const FullRun inference = full_run(*cpu, w, inputs(d, ForwardMode::inference, 3));
  const FullRun training = full_run(*cpu, w, inputs(d, ForwardMode::training, 3));
  EXPECT_EQ(to_vector(inference.y), to_vector(training.y));
}

TEST(Dropout, MaskDropsTheRequestedFractionAndRescales) {
  const double p = 0.3;
  const int n = 200000;
  int dropped = 0;
  double sum = 0;
  for (int k = 0; k < n; ++k) {
    const double s = detail::dropout_scale(42, 1, static_cast<std::uint64_t>(k), p);
    ASSERT_TRUE(s == 0.0 || s == 1.0 / (1.0 - p)) << s;
    dropped += s == 0.0 ? 1 : 0;
    sum += s;
  }
  EXPECT_NEAR(static_cast<double>(dropped) / n, p, 0.005);
  EXPECT_NEAR(sum / n, 1.0, 0.01);  // inverted dropout keeps the expectation
}

}  // namespace
}  // namespace gpurnn::testing
