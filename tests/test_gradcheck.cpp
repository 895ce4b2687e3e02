// Gradients of the CPU backend against central finite differences in f64, for every parameter,
// every input element and every initial state element, across the sweep at small sizes.
// The loss is L = Σ y·dy + Σ hn·dhn + Σ cn·dcn, so backward(dy, dhn, dcn) is dL/d(everything).

#include <gtest/gtest.h>


#include "sweep_cases.h"
#include "test_support.h"

namespace gpurnn::testing {
namespace {

constexpr std::int64_t kSteps = 4;
constexpr double kTolerance = 1e-6;

double dot(const Tensor& a, const Tensor& b) {
  if (!a.defined()) return 0;
  double s = 0;
  for (std::int64_t k = 0; k < a.numel(); ++k) s += a.data_as<double>()[k] * b.data_as<double>()[k];
  return s;
}

// Analytic gradients of one random problem (T = kSteps, B = lengths.size()) against central
// differences of the loss, for the weights, x, h0 and c0.
void expect_gradients_match(const RNNDescriptor& d, const std::vector<std::int32_t>& lengths,
                            bool ragged) {
  const std::unique_ptr<Backend> cpu = make_backend("cpu");
  RNNWeights w(d, DType::f64);
  w.init_uniform(5);
  const std::int64_t states = static_cast<std::int64_t>(d.num_layers) * d.num_directions();
  const auto batch = static_cast<std::int64_t>(lengths.size());
  FullRunInputs in;
  in.x = random_tensor({kSteps, batch, d.input_size}, DType::f64, 3, 1);
  in.h0 = random_tensor({states, batch, d.state_size()}, DType::f64, 3, 2, 0.5);
  if (d.has_cell_state()) in.c0 = random_tensor({states, batch, d.hidden_size}, DType::f64, 3, 3, 0.5);
  in.dy = random_tensor({kSteps, batch, d.output_size()}, DType::f64, 3, 4);
  in.dhn = random_tensor({states, batch, d.state_size()}, DType::f64, 3, 5);
  if (d.has_cell_state()) in.dcn = random_tensor({states, batch, d.hidden_size}, DType::f64, 3, 6);
  if (ragged) in.lengths = Tensor::from_host<std::int32_t>({batch}, lengths.data());
  in.dropout_seed = 77;

  const FullRun analytic = full_run(*cpu, w, in);
  auto loss = [&]() {
    const FullRun r = full_run(*cpu, w, in);
    return dot(r.y, in.dy) + dot(r.hn, in.dhn) + dot(r.cn, in.dcn);
  };
  EXPECT_LT(relative_error(to_vector(analytic.dweights.flat()), numeric_gradient(w.flat(), loss)),
            kTolerance)
      << "weights";
  EXPECT_LT(relative_error(to_vector(analytic.dx), numeric_gradient(in.x, loss)), kTolerance) << "x";
  EXPECT_LT(relative_error(to_vector(analytic.dh0), numeric_gradient(in.h0, loss)), kTolerance) << "h0";
  if (d.has_cell_state()) {
    EXPECT_LT(relative_error(to_vector(analytic.dc0), numeric_gradient(in.c0, loss)), kTolerance)
        << "c0";
  }
}

class GradCheck : public ::testing::TestWithParam<SweepCase> {};

TEST_P(GradCheck, BackwardMatchesFiniteDifferences) {
  SweepCase c = GetParam();
  // Dropout between layers on some cases: the mask is a function of the seed, so it is the same
  // in every evaluation of the loss.
  if (c.desc.num_layers > 1 && c.desc.bias) c.desc.dropout = 0.25;
  expect_gradients_match(c.desc, {2, kSteps, 1}, c.ragged);
}

// Batch 1: the per-step products of backward are GEMVs.
TEST(GradCheckEdges, BatchOne) {
  for (const SweepCase& c : sweep_cases({4}, 2)) {
    if (!c.desc.bias || !c.desc.bidirectional) continue;
    SCOPED_TRACE(c.name());
    expect_gradients_match(c.desc, {c.ragged ? 3 : static_cast<std::int32_t>(kSteps)}, c.ragged);
  }
}

INSTANTIATE_TEST_SUITE_P(Sweep, GradCheck, ::testing::ValuesIn(sweep_cases({1, 3}, 3)),
                         SweepCaseName());

// Per-parameter check on one case, so a wrong gradient is reported by name.
TEST(GradCheckByName, EveryLstmProjectionParameter) {
  RNNDescriptor d;
  d.cell = CellKind::lstm;
  d.input_size = 3;
  d.hidden_size = 4;
  d.proj_size = 2;
  d.num_layers = 2;
  d.bidirectional = true;
  const std::unique_ptr<Backend> cpu = make_backend("cpu");
  RNNWeights w(d, DType::f64);
  w.init_uniform(8);
  FullRunInputs in;
  in.x = random_tensor({kSteps, 3, d.input_size}, DType::f64, 4, 1);
  in.dy = random_tensor({kSteps, 3, d.output_size()}, DType::f64, 4, 2);
  const std::int32_t lengths[3] = {2, kSteps, 1};
  in.lengths = Tensor::from_host<std::int32_t>({3}, lengths);
  const FullRun analytic = full_run(*cpu, w, in);
  const std::vector<double> numeric = numeric_gradient(w.flat(), [&]() {
    return dot(full_run(*cpu, w, in).y, in.dy);
  });
  const std::vector<double> got = to_vector(analytic.dweights.flat());
  for (const ParameterInfo& p : w.parameters()) {
    const auto first = static_cast<std::ptrdiff_t>(p.offset);
    const auto last = first + static_cast<std::ptrdiff_t>(p.shape.numel());
    EXPECT_LT(relative_error(std::vector<double>(got.begin() + first, got.begin() + last),
                             std::vector<double>(numeric.begin() + first, numeric.begin() + last)),
              kTolerance)
        << p.name;
  }
}

}  // namespace
}  // namespace gpurnn::testing
