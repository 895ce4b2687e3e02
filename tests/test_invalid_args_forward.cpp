// Invalid arguments of forward (see invalid_args_support.h).
#include "invalid_args_support.h"

namespace gpurnn::invalid_args {
namespace {

TEST(InvalidArgs, ValidBaselineRunsForEveryCall) {
  for (const auto& [desc, bf] : {std::pair{lstm_desc(), false}, std::pair{gru_desc(), false},
                                 std::pair{lstm_desc(), true}}) {
    Problem p(desc, bf);
    EXPECT_NO_THROW(p.run(p.fwd())());
    EXPECT_NO_THROW(p.run(p.bwd())());
    EXPECT_NO_THROW(p.run(p.bww())());
    ForwardArgs inference = p.fwd(ForwardMode::inference);
    inference.reserve = TensorView();
    EXPECT_NO_THROW(p.run(inference)());
  }
}

// ---- forward: x and lengths -------------------------------------------------------------------
TEST(InvalidArgs, ForwardXRankWrong) {
  replaced(lstm_desc(), &ForwardArgs::x, f32({kT * kB, kI}),
           {"'x'", "[15, 7]", "rank 3", "[T, B, 7]"});
}
TEST(InvalidArgs, ForwardXInputSizeWrong) {
  replaced(lstm_desc(), &ForwardArgs::x, f32({kT, kB, kI + 1}),
           {"'x'", "[5, 3, 8]", "input_size = 7"});
}
TEST(InvalidArgs, ForwardXDtypeF64WithF32Weights) {
  replaced(lstm_desc(), &ForwardArgs::x, f64({kT, kB, kI}),
           {"'x'", "f64", "expected [5, 3, 7] f32"});
}
TEST(InvalidArgs, ForwardXEmptyView) {
  replaced(lstm_desc(), &ForwardArgs::x, Tensor(), {"'x'", "empty"});
}
TEST(InvalidArgs, ForwardXWithoutSteps) {
  replaced(lstm_desc(), &ForwardArgs::x, f32({0, kB, kI}),
           {"'x'", "[0, 3, 7]", "at least one step"});
}
TEST(InvalidArgs, ForwardXOnAnotherDevice) {
  rebound(lstm_desc(), &ForwardArgs::x, &Problem::x, on_cuda<ConstTensorView>,
          {"'x'", "cuda:1", "expected [5, 3, 7] f32 on cpu"});
}
TEST(InvalidArgs, LengthsWrongDtype) {
  replaced(lstm_desc(), &ForwardArgs::lengths, Tensor::zeros({kB}, DType::i64),
           {"'lengths'", "i64", "expected [3] i32"});
}
TEST(InvalidArgs, LengthsWrongShape) {
  replaced(lstm_desc(), &ForwardArgs::lengths, Tensor::zeros({kB + 1}, DType::i32),
           {"'lengths'", "[4]", "expected [3] i32"});
}
// One bad entry is rejected by forward and by backward_data.
void expect_bad_length(std::int32_t value) {
  Problem p(lstm_desc());
  p.lengths.data_as<std::int32_t>()[1] = value;
  const std::string entry = "lengths[1] = " + std::to_string(value);
  expect_invalid(p.run(p.fwd()), {"'lengths'", entry, "[1, 5]"});
  expect_invalid(p.run(p.bwd()), {"'lengths'", entry, "[1, 5]"});
}
TEST(InvalidArgs, LengthsValueZero) { expect_bad_length(0); }
TEST(InvalidArgs, LengthsValueAboveT) { expect_bad_length(kT + 1); }
TEST(InvalidArgs, LengthsValueNegative) { expect_bad_length(-2); }

// ---- forward: states --------------------------------------------------------------------------
TEST(InvalidArgs, H0WrongShape) {  // hidden_size instead of proj_size
  replaced(lstm_desc(), &ForwardArgs::h0, f32({4, kB, kH}),
           {"'h0'", "[4, 3, 6]", "expected [4, 3, 2] f32"});
}
TEST(InvalidArgs, H0WrongDtype) {
  replaced(gru_desc(), &ForwardArgs::h0, f64({1, kB, kH}),
           {"'h0'", "f64", "expected [1, 3, 6] f32"});
}
TEST(InvalidArgs, C0GivenForGru) {
  replaced(gru_desc(), &ForwardArgs::c0, f32({1, kB, kH}), {"'c0'", "omitted", "LSTM"});
}
TEST(InvalidArgs, C0WrongShapeForLstm) {  // proj_size instead of hidden_size
  replaced(lstm_desc(), &ForwardArgs::c0, f32({4, kB, 2}),
           {"'c0'", "[4, 3, 2]", "expected [4, 3, 6] f32"});
}
TEST(InvalidArgs, HnWrongShape) {  // layers instead of layers * directions
  replaced(lstm_desc(), &ForwardArgs::hn, f32({2, kB, 2}),
           {"'hn'", "[2, 3, 2]", "expected [4, 3, 2] f32"});
}
TEST(InvalidArgs, CnWrongShape) {
  replaced(lstm_desc(), &ForwardArgs::cn, f32({4, kB + 1, kH}),
           {"'cn'", "[4, 4, 6]", "expected [4, 3, 6] f32"});
}
TEST(InvalidArgs, CnGivenForNonLstm) {
  replaced(gru_desc(), &ForwardArgs::cn, f32({1, kB, kH}), {"'cn'", "omitted"});
}

// ---- forward: y, workspace, reserve, weights, aliasing ----------------------------------------
TEST(InvalidArgs, YMissing) {
  replaced(lstm_desc(), &ForwardArgs::y, Tensor(), {"'y'", "required", "[5, 3, 4] f32"});
}
TEST(InvalidArgs, YWrongShape) {  // hidden_size instead of directions * proj_size
  replaced(lstm_desc(), &ForwardArgs::y, f32({kT, kB, kH}),
           {"'y'", "[5, 3, 6]", "expected [5, 3, 4] f32"});
}
TEST(InvalidArgs, YTimeMajorWhenBatchFirst) {
  replaced(lstm_desc(), &ForwardArgs::y, f32({kT, kB, 4}),
           {"'y'", "[5, 3, 4]", "expected [3, 5, 4] f32"},
           /*batch_first=*/true);
}
TEST(InvalidArgs, WorkspaceMissing) {
  const std::size_t need = Problem(lstm_desc()).ws_bytes;
  replaced(lstm_desc(), &ForwardArgs::workspace, Tensor(),
           {"'workspace'", "required", std::to_string(need) + " bytes"});
}
TEST(InvalidArgs, WorkspaceTooSmall) {
  const std::size_t need = Problem(lstm_desc()).ws_bytes;
  rebound(lstm_desc(), &ForwardArgs::workspace, &Problem::workspace, one_byte_short,
          {"'workspace'", std::to_string(need - 1) + " bytes", at_least(need)});
}
TEST(InvalidArgs, WorkspaceTooSmallForInference) {
  Problem p(lstm_desc());
  const std::size_t need =
      p.backend->workspace_size(p.desc, {kT, kB, false}, DType::f32, ForwardMode::inference);
  ForwardArgs a = p.fwd(ForwardMode::inference);
  a.workspace = prefix(p.workspace, need - 1);
  expect_invalid(p.run(a), {"'workspace'", at_least(need)});
}
TEST(InvalidArgs, WorkspaceOnAnotherDevice) {
  rebound(lstm_desc(), &ForwardArgs::workspace, &Problem::workspace, on_cuda<TensorView>,
          {"'workspace'", "cuda:1"});
}
TEST(InvalidArgs, ReserveMissingInTraining) {
  const std::size_t need = Problem(lstm_desc()).reserve_bytes;
  replaced(lstm_desc(), &ForwardArgs::reserve, Tensor(),
           {"'reserve'", "required", std::to_string(need) + " bytes"});
}
TEST(InvalidArgs, ReserveTooSmallInTraining) {
  const std::size_t need = Problem(lstm_desc()).reserve_bytes;
  rebound(lstm_desc(), &ForwardArgs::reserve, &Problem::reserve, one_byte_short,
          {"'reserve'", std::to_string(need - 1) + " bytes", at_least(need)});
}
TEST(InvalidArgs, WeightsDefaultConstructed) {
  Problem p(lstm_desc());
  expect_invalid([&] { p.backend->forward(RNNWeights(), p.fwd()); }, {"'weights'", "empty"});
}
// Read-only inputs may share memory (PyTorch allows the same tensor as h0 and c0).
TEST(InvalidArgs, ReadOnlyInputsMayShareMemory) {
  RNNDescriptor d = lstm_desc();
  d.proj_size = 0;  // h0 and c0 then have the same shape
  RNN rnn(d, DType::f32, "cpu", 3);
  const Tensor x = f32({kT, kB, kI});
  SequenceInputs shared, separate;
  shared.h0 = f32({4, kB, kH});
  shared.c0 = shared.h0;
  separate.h0 = shared.h0.clone();
  separate.c0 = shared.h0.clone();
  EXPECT_EQ(testing::to_vector(rnn.forward(x, shared).y), testing::to_vector(rnn.forward(x, separate).y));
}

TEST(InvalidArgs, ForwardAliasedArguments) {  // backend.h: a written argument may not alias another
  rebound(lstm_desc(), &ForwardArgs::hn, &Problem::h0,
          +[](Problem&, Tensor& h0) { return h0.view(); }, {"'hn'"});
}


}  // namespace
}  // namespace gpurnn::invalid_args
