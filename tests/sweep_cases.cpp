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

}  // namespace gpurnn::testing
