#include "sweep_cases.h"

#include "test_support.h"

namespace gpurnn::testing {

std::string SweepCase::name() const { return case_name(desc) + (ragged ? "_ragged" : "_equal"); }

std::vector<SweepCase> sweep_cases(const std::vector<int>& sizes, int max_layers) {
  // Every cell kind, and each that can project once more with a projection.
  struct Variant {
    CellKind cell;
    bool projection;
  };
  std::vector<Variant> variants;
  for (CellKind cell : detail::kCellKinds) {
    variants.push_back({cell, false});
    if (detail::cell_traits(cell).projection) variants.push_back({cell, true});
  }
  std::vector<SweepCase> cases;
  for (const Variant& v : variants) {
    for (int size : sizes) {
      if (v.projection && size < 2) continue;  // proj_size must be below hidden_size
      for (int layers = 1; layers <= max_layers; ++layers) {
        for (bool bidirectional : {false, true}) {
          for (bool ragged : {false, true}) {
            for (bool bias : {true, false}) {
              RNNDescriptor d;
              d.cell = v.cell;
              d.hidden_size = size;
              d.input_size = size > 2 ? size - 2 : size + 2;
              d.num_layers = layers;
              d.bidirectional = bidirectional;
              d.bias = bias;
              d.proj_size = v.projection ? (size + 1) / 2 : 0;
              cases.push_back({d, ragged});
            }
          }
        }
      }
    }
  }
  return cases;
}

FullRunInputs sweep_inputs(const RNNDescriptor& d, const std::vector<std::int32_t>& lengths, bool ragged,
                           ForwardMode mode, bool batch_first, DType dtype) {
  const std::int64_t states = static_cast<std::int64_t>(d.num_layers) * d.num_directions();
  const auto B = static_cast<std::int64_t>(lengths.size());
  const auto seq = [&](std::int64_t f) {
    return batch_first ? Shape{B, kSweepSteps, f} : Shape{kSweepSteps, B, f};
  };
  FullRunInputs in;
  in.mode = mode;
  in.batch_first = batch_first;
  in.x = random_tensor(seq(d.input_size), dtype, 7, 1);
  in.h0 = random_tensor({states, B, d.state_size()}, dtype, 7, 2, 0.5);
  if (d.has_cell_state()) in.c0 = random_tensor({states, B, d.hidden_size}, dtype, 7, 3, 0.5);
  in.dy = random_tensor(seq(d.output_size()), dtype, 7, 4);
  in.dhn = random_tensor({states, B, d.state_size()}, dtype, 7, 5);
  if (d.has_cell_state()) in.dcn = random_tensor({states, B, d.hidden_size}, dtype, 7, 6);
  if (ragged) in.lengths = Tensor::from_host<std::int32_t>({B}, lengths.data());
  in.dropout_seed = 31;
  return in;
}

void expect_runs_match(const FullRun& run, const FullRun& base, const RNNDescriptor& d, ForwardMode mode,
                       const std::string& what, double forward_tol, double grad_tol) {
  EXPECT_LT(relative_error(run.y, base.y), forward_tol) << what << " y";
  EXPECT_LT(relative_error(run.hn, base.hn), forward_tol) << what << " hn";
  if (d.has_cell_state()) {
    EXPECT_LT(relative_error(run.cn, base.cn), forward_tol) << what << " cn";
  }
  if (mode == ForwardMode::inference) return;
  EXPECT_LT(relative_error(run.dx, base.dx), grad_tol) << what << " dx";
  EXPECT_LT(relative_error(run.dh0, base.dh0), grad_tol) << what << " dh0";
  if (d.has_cell_state()) {
    EXPECT_LT(relative_error(run.dc0, base.dc0), grad_tol) << what << " dc0";
  }
  EXPECT_LT(relative_error(run.dweights.flat(), base.dweights.flat()), grad_tol) << what << " weights";
}

}  // namespace gpurnn::testing
