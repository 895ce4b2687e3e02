#pragma once
// The parameter sweep shared by the reference comparison and the gradient checks:
// every cell kind (and LSTM with projection) × sizes × layers × directions × ragged/equal
// lengths × bias on/off.

#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "gpurnn/rnn_descriptor.h"
#include "test_support.h"

namespace gpurnn::testing {

struct SweepCase {
  RNNDescriptor desc;
  bool ragged;  // lengths 1, T and in between, in no particular order

  std::string name() const;
};

// `sizes` are hidden sizes; each case's input size differs from its hidden size.
std::vector<SweepCase> sweep_cases(const std::vector<int>& sizes, int max_layers);

// The time steps of sweep_inputs.
constexpr std::int64_t kSweepSteps = 6;

// Random inputs of a sweep case for kSweepSteps steps and a batch of lengths.size() sequences
// (ragged: those lengths; else all kSweepSteps), with initial states and, for training, output
// gradients. The same values for every backend, so runs can be compared.
FullRunInputs sweep_inputs(const RNNDescriptor& d, const std::vector<std::int32_t>& lengths, bool ragged,
                           ForwardMode mode, bool batch_first = false, DType dtype = DType::f32);

// Expects every output of `run` (and, in training, every gradient) within the relative errors of
// `base`'s, naming `what` (the backend) in a failure.
void expect_runs_match(const FullRun& run, const FullRun& base, const RNNDescriptor& d, ForwardMode mode,
                       const std::string& what, double forward_tol = 1e-5, double grad_tol = 1e-4);

// gtest prints a case by its name rather than its bytes.
inline void PrintTo(const SweepCase& c, std::ostream* os) { *os << c.name(); }

// Names parameterised tests after their case: "lstm_I5_H7_L2_bi_proj4_ragged".
struct SweepCaseName {
  std::string operator()(const ::testing::TestParamInfo<SweepCase>& param) const {
    return param.param.name();
  }
};

}  // namespace gpurnn::testing
