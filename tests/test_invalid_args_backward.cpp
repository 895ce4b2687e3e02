// Invalid arguments of backward_data and backward_weights (see invalid_args_support.h).
#include "invalid_args_support.h"

namespace gpurnn::invalid_args {
namespace {

// ---- backward_data ----------------------------------------------------------------------------
TEST(InvalidArgs, BackwardDataDyWrongShape) {
  replaced(lstm_desc(), &BackwardDataArgs::dy, f32({kT, kB, kH}),
           {"'dy'", "[5, 3, 6]", "expected [5, 3, 4] f32"});
}
TEST(InvalidArgs, BackwardDataDyMissing) {
  replaced(lstm_desc(), &BackwardDataArgs::dy, Tensor(), {"'dy'", "required"});
}
TEST(InvalidArgs, BackwardDataDxWrongShape) {
  replaced(lstm_desc(), &BackwardDataArgs::dx, f32({kT, kB, kI - 1}),
           {"'dx'", "[5, 3, 6]", "input_size = 7"});
}
TEST(InvalidArgs, BackwardDataDxWrongDtype) {
  replaced(lstm_desc(), &BackwardDataArgs::dx, f64({kT, kB, kI}),
           {"'dx'", "f64", "expected [5, 3, 7] f32"});
}
TEST(InvalidArgs, BackwardDataDhnWrongShape) {
  replaced(lstm_desc(), &BackwardDataArgs::dhn, f32({4, kB, kH}),
           {"'dhn'", "[4, 3, 6]", "expected [4, 3, 2] f32"});
}
TEST(InvalidArgs, BackwardDataDcnWrongShape) {
  replaced(lstm_desc(), &BackwardDataArgs::dcn, f32({4, kB, 2}),
           {"'dcn'", "expected [4, 3, 6] f32"});
}
TEST(InvalidArgs, BackwardDataDh0WrongShape) {
  replaced(lstm_desc(), &BackwardDataArgs::dh0, f32({4, kB + 2, 2}),
           {"'dh0'", "[4, 5, 2]", "expected [4, 3, 2] f32"});
}
TEST(InvalidArgs, BackwardDataDc0OnGru) {
  replaced(gru_desc(), &BackwardDataArgs::dc0, f32({1, kB, kH}), {"'dc0'", "omitted"});
}
TEST(InvalidArgs, BackwardDataDcnOnGru) {
  replaced(gru_desc(), &BackwardDataArgs::dcn, f32({1, kB, kH}), {"'dcn'", "omitted"});
}
TEST(InvalidArgs, BackwardDataReserveTooSmall) {
  const std::size_t need = Problem(lstm_desc()).reserve_bytes;
  rebound(lstm_desc(), &BackwardDataArgs::reserve, &Problem::reserve, one_byte_short,
          {"'reserve'", at_least(need)});
}
TEST(InvalidArgs, BackwardDataReserveMissing) {
  replaced(gru_desc(), &BackwardDataArgs::reserve, Tensor(), {"'reserve'", "required"});
}
TEST(InvalidArgs, BackwardDataWorkspaceTooSmall) {
  const std::size_t need = Problem(lstm_desc()).ws_bytes;
  rebound(lstm_desc(), &BackwardDataArgs::workspace, &Problem::workspace, one_byte_short,
          {"'workspace'", at_least(need)});
}

// backend.h: backward_data runs "with the same reserve, lengths and shapes" as forward. A shorter
// sequence still fits in the reserve, so only a reserve that records its shape can catch this.
TEST(InvalidArgs, BackwardDataShapeDiffersFromForward) {
  Problem p(gru_desc());
  const Tensor dy = f32({kT - 1, kB, kH});
  Tensor dx = f32({kT - 1, kB, kI});
  BackwardDataArgs a = p.bwd();
  a.lengths = ConstTensorView(), a.dhn = ConstTensorView(), a.dh0 = TensorView();
  a.dy = dy, a.dx = dx;
  expect_invalid(p.run(a), {"'reserve'"});
}

// Issue 22: the same T and B but other lengths fit the reserve too; the reserve records a digest
// of the forward's lengths, so other lengths (or omitting them) are refused, and the same lengths
// (or all-T lengths written out for a forward without any) pass.
TEST(InvalidArgs, BackwardDataLengthsDifferFromForward) {
  Problem p(lstm_desc());
  const std::int32_t other[kB] = {5, 3, 4};
  const Tensor other_lengths = Tensor::from_host<std::int32_t>({kB}, other);
  BackwardDataArgs a = p.bwd();
  a.lengths = other_lengths;
  expect_invalid(p.run(a), {"'lengths'", "differ", "forward"});
  a.lengths = ConstTensorView();
  expect_invalid(p.run(a), {"'lengths'", "differ"});
  EXPECT_NO_THROW(p.run(p.bwd())());

  ForwardArgs f = p.fwd();
  f.lengths = ConstTensorView();
  p.backend->forward(p.w, f);
  const std::int32_t full[kB] = {kT, kT, kT};
  const Tensor full_lengths = Tensor::from_host<std::int32_t>({kB}, full);
  a = p.bwd();
  a.lengths = full_lengths;
  EXPECT_NO_THROW(p.run(a)());
  a.lengths = p.lengths;
  expect_invalid(p.run(a), {"'lengths'", "differ"});
}

// ---- backward_weights -------------------------------------------------------------------------
void grads_case(const RNNDescriptor& d, RNNWeights grads, Parts parts) {
  Problem p(d);
  expect_invalid(p.run(p.bww(), &grads), parts);
}
TEST(InvalidArgs, BackwardWeightsGradsWithAnotherDescriptor) {
  RNNDescriptor other = lstm_desc();
  other.hidden_size = kH + 1;
  grads_case(lstm_desc(), RNNWeights(other, DType::f32),
             {"'grads'", to_string(other), to_string(lstm_desc())});
}
TEST(InvalidArgs, BackwardWeightsGradsSameSizeAnotherCell) {
  RNNDescriptor tanh_desc = gru_desc(), relu_desc = gru_desc();
  tanh_desc.cell = CellKind::rnn_tanh;
  relu_desc.cell = CellKind::rnn_relu;
  grads_case(tanh_desc, RNNWeights(relu_desc, DType::f32),
             {"'grads'", "rnn_relu", "expected rnn_tanh"});
}
TEST(InvalidArgs, BackwardWeightsGradsWithAnotherDtype) {
  grads_case(lstm_desc(), RNNWeights(lstm_desc(), DType::f64), {"'grads'", "f64", "expected f32"});
}
TEST(InvalidArgs, BackwardWeightsGradsDefaultConstructed) {
  grads_case(lstm_desc(), RNNWeights(), {"'grads'", "empty"});
}
TEST(InvalidArgs, BackwardWeightsXWrongShape) {
  replaced(lstm_desc(), &BackwardWeightsArgs::x, f32({kT, kB, kI + 2}),
           {"'x'", "[5, 3, 9]", "input_size = 7"});
}
TEST(InvalidArgs, BackwardWeightsXWrongDtype) {
  replaced(lstm_desc(), &BackwardWeightsArgs::x, f64({kT, kB, kI}),
           {"'x'", "f64", "expected [5, 3, 7] f32"});
}
TEST(InvalidArgs, BackwardWeightsXOnAnotherDevice) {
  rebound(lstm_desc(), &BackwardWeightsArgs::x, &Problem::x, on_cuda<ConstTensorView>,
          {"'x'", "cuda:1"});
}
TEST(InvalidArgs, BackwardWeightsReserveTooSmall) {
  const std::size_t need = Problem(lstm_desc()).reserve_bytes;
  rebound(lstm_desc(), &BackwardWeightsArgs::reserve, &Problem::reserve,
          +[](Problem& p, Tensor& r) { return ConstTensorView(one_byte_short(p, r)); },
          {"'reserve'", at_least(need)});
}


}  // namespace
}  // namespace gpurnn::invalid_args
