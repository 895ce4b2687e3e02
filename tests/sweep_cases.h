#pragma once
// The parameter sweep shared by the reference comparison and the gradient checks:
// every cell kind (and LSTM with projection) × sizes × layers × directions × ragged/equal
// lengths × bias on/off.

#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "gpurnn/rnn_descriptor.h"

namespace gpurnn::testing {

struct SweepCase {
  RNNDescriptor desc;
  bool ragged;  // lengths 1, T and in between, in no particular order

  std::string name() const;
};

// `sizes` are hidden sizes; each case's input size differs from its hidden size.
std::vector<SweepCase> sweep_cases(const std::vector<int>& sizes, int max_layers);

// gtest prints a case by its name rather than its bytes.
inline void PrintTo(const SweepCase& c, std::ostream* os) { *os << c.name(); }

// Names parameterised tests after their case: "lstm_I5_H7_L2_bi_proj4_ragged".
struct SweepCaseName {
  std::string operator()(const ::testing::TestParamInfo<SweepCase>& param) const {
    return param.param.name();
  }
};

}  // namespace gpurnn::testing
