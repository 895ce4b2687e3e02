// Invalid descriptors, weights, factories, size queries, parsers, tensors and the RNN module.
#include "core/thread_count.h"
#include "invalid_args_support.h"

namespace gpurnn::invalid_args {
namespace {

// ---- descriptor and weights -------------------------------------------------------------------
// A GRU or LSTM descriptor changed by `change` is rejected by validate(), by RNNWeights and by the
// backend, naming `field`.
void descriptor_case(CellKind cell, void (*change)(RNNDescriptor&), const std::string& field,
                     const std::string& detail) {
  RNNDescriptor d = gru_desc();
  d.cell = cell;
  change(d);
  const std::string name = "'" + field + "'";
  expect_invalid([&] { d.validate(); }, {name, detail});
  expect_invalid([&] { RNNWeights w(d, DType::f32); }, {name, detail});
  auto backend = make_backend("cpu");
  expect_invalid(
      [&] {
        backend->workspace_size(d, {4, 2, false}, DType::f32, ForwardMode::training);
      },
      {name});
  EXPECT_FALSE(backend->supports(d, DType::f32));
}
constexpr CellKind kLstm = CellKind::lstm;
TEST(InvalidArgs, DescriptorInputSizeZero) {
  descriptor_case(
      kLstm, [](RNNDescriptor& d) { d.input_size = 0; }, "input_size", "got 0");
}
TEST(InvalidArgs, DescriptorHiddenSizeZero) {
  descriptor_case(
      kLstm, [](RNNDescriptor& d) { d.hidden_size = 0; }, "hidden_size", "got 0");
}
TEST(InvalidArgs, DescriptorHiddenSizeNegative) {
  descriptor_case(
      kLstm, [](RNNDescriptor& d) { d.hidden_size = -4; }, "hidden_size", "got -4");
}
TEST(InvalidArgs, DescriptorNumLayersZero) {
  descriptor_case(
      kLstm, [](RNNDescriptor& d) { d.num_layers = 0; }, "num_layers", "got 0");
}
TEST(InvalidArgs, DescriptorProjSizeOnGru) {
  descriptor_case(
      CellKind::gru, [](RNNDescriptor& d) { d.proj_size = 2; }, "proj_size", "gru");
}
TEST(InvalidArgs, DescriptorProjSizeOnRnnTanh) {
  descriptor_case(
      CellKind::rnn_tanh, [](RNNDescriptor& d) { d.proj_size = 2; }, "proj_size", "rnn_tanh");
}
TEST(InvalidArgs, DescriptorProjSizeNotBelowHidden) {
  descriptor_case(
      kLstm, [](RNNDescriptor& d) { d.proj_size = d.hidden_size; }, "proj_size", "hidden_size (6)");
}
TEST(InvalidArgs, DescriptorProjSizeNegative) {
  descriptor_case(
      kLstm, [](RNNDescriptor& d) { d.proj_size = -1; }, "proj_size", "got -1");
}
TEST(InvalidArgs, DescriptorDropoutNegative) {
  descriptor_case(
      kLstm, [](RNNDescriptor& d) { d.dropout = -0.1; }, "dropout", "[0, 1)");
}
TEST(InvalidArgs, DescriptorDropoutOne) {
  descriptor_case(
      kLstm, [](RNNDescriptor& d) { d.dropout = 1.0; }, "dropout", "[0, 1)");
}
TEST(InvalidArgs, DescriptorDropoutNaN) {
  descriptor_case(
      kLstm, [](RNNDescriptor& d) { d.dropout = std::numeric_limits<double>::quiet_NaN(); },
      "dropout", "[0, 1)");
}
TEST(InvalidArgs, WeightsDtypeI32) {
  expect_invalid([] { RNNWeights w(gru_desc(), DType::i32); }, {"'dtype'", "i32"});
}
TEST(InvalidArgs, WeightsGetUnknownName) {
  RNNWeights w(gru_desc(), DType::f32);
  expect_invalid([&] { w.get("weight_xx_l0"); }, {"'name'", "'weight_xx_l0'"});
  const RNNWeights& cw = w;
  expect_invalid([&] { cw.get("weight_ih_l1"); }, {"'name'", "'weight_ih_l1'"});
}

// ---- backend factory and size queries ---------------------------------------------------------
TEST(InvalidArgs, MakeBackendUnknownName) {
  expect_error([] { make_backend("nope"); }, ErrorCode::unsupported, {"'name'", "'nope'", "cpu"});
}
TEST(InvalidArgs, MakeBackendUnknownAlgorithm) {
  expect_error([] { make_backend("cpu/persistent"); }, ErrorCode::unsupported,
               {"'persistent'", "'cpu'", "standard"});
  BackendOptions options;
  options.algorithm = "fastest";
  expect_error([&] { make_backend("cpu", options); }, ErrorCode::unsupported, {"'fastest'", "standard"});
}
TEST(InvalidArgs, MakeBackendEmptyOrConflictingAlgorithm) {
  expect_invalid([] { make_backend("cpu/"); }, {"'name'", "empty algorithm"});
  BackendOptions options;
  options.algorithm = "other";
  expect_invalid([&] { make_backend("cpu/standard", options); }, {"'name'", "'other'"});
}
TEST(MakeBackend, AlgorithmInNameOrOptions) {
  EXPECT_EQ(make_backend("cpu/standard")->name(), "cpu");
  BackendOptions options;
  options.algorithm = "standard";
  EXPECT_EQ(make_backend("cpu", options)->name(), "cpu");
  EXPECT_EQ(backend_algorithms("cpu"), std::vector<std::string>{"standard"});
  EXPECT_TRUE(backend_algorithms("nope").empty());
}
TEST(InvalidArgs, BackendOptionsNegativeThreads) {
  BackendOptions options;
  options.num_threads = -1;
  expect_invalid([&] { make_backend("cpu", options); }, {"'options.num_threads'", "-1"});
}
// Issue 22: 100,000 threads crashed libgomp. Counts above 4 per usable core are refused by name,
// by every entry point that takes one; the largest allowed count is accepted.
TEST(InvalidArgs, HugeThreadCountsAreRefused) {
  const int limit = detail::max_thread_count();
  EXPECT_EQ(limit, detail::kThreadsPerCore * detail::usable_cores());
  for (int huge : {limit + 1, 20000, 100000, std::numeric_limits<int>::max()}) {
    BackendOptions options;
    options.num_threads = huge;
    expect_invalid([&] { make_backend("cpu", options); },
                   {"'options.num_threads'", std::to_string(huge), "up to " + std::to_string(limit)});
  }
  BackendOptions most;
  most.num_threads = limit;
  EXPECT_NO_THROW(make_backend("cpu", most));
}
TEST(InvalidArgs, SizeQueriesRejectEmptyProblems) {
  auto b = make_backend("cpu");
  const RNNDescriptor d = lstm_desc();
  expect_invalid(
      [&] {
        b->workspace_size(d, {0, 2, false}, DType::f32, ForwardMode::inference);
      },
      {"'shape.seq_len'", "got 0"});
  expect_invalid(
      [&] {
        b->workspace_size(d, {4, 0, false}, DType::f32, ForwardMode::training);
      },
      {"'shape.batch'", "got 0"});
  expect_invalid([&] { b->reserve_size(d, {0, 2, false}, DType::f32); }, {"'shape.seq_len'"});
  expect_invalid([&] { b->reserve_size(d, {4, 0, false}, DType::f64); }, {"'shape.batch'"});
  expect_invalid([&] { b->reserve_size(d, {4, 2, false}, DType::i32); }, {"'dtype'", "i32"});
}

// ---- parsers, tensors, the RNN module ----------------------------------------------------------
TEST(InvalidArgs, ParseCellKindUnknown) {
  expect_invalid([] { parse_cell_kind("lstmx"); }, {"'lstmx'", "lstm", "gru"});
}
TEST(InvalidArgs, ParseDtypeUnknown) {
  expect_invalid([] { parse_dtype("f16x"); }, {"'f16x'", "f32"});
}
TEST(InvalidArgs, ParseDeviceGpu) {
  expect_invalid([] { parse_device("gpu"); }, {"'gpu'", "cuda:N"});
}
TEST(InvalidArgs, ParseDeviceBadIndex) {
  expect_invalid([] { parse_device("cuda:x"); }, {"'cuda:x'", "cuda:N"});
}
// Issue 22: dim(-1) read out of bounds. Negative indices count from the end, as in PyTorch;
// anything outside [-rank, rank) is an error naming the index and the shape.
TEST(InvalidArgs, TensorDimIndicesOutOfRange) {
  const Tensor t = Tensor::zeros({2, 3, 4}, DType::f32);
  EXPECT_EQ(t.dim(-1), 4);
  EXPECT_EQ(t.dim(-3), 2);
  EXPECT_EQ(t.view().dim(-2), 3);
  EXPECT_EQ(t.shape()[-1], 4);
  for (int bad : {3, 6, -4, 100, -100}) {
    expect_invalid([&] { (void)t.dim(bad); }, {std::to_string(bad), "[2, 3, 4]", "-3 to 2"});
    expect_invalid([&] { (void)t.view().dim(bad); }, {std::to_string(bad), "[2, 3, 4]"});
  }
  const Tensor scalar = Tensor::zeros({}, DType::f64);
  expect_invalid([&] { (void)scalar.dim(0); }, {"index 0", "rank 0"});
  expect_invalid([&] { (void)scalar.dim(-1); }, {"index -1", "rank 0"});
}
TEST(InvalidArgs, TensorReshapeWrongElementCount) {
  Tensor t = Tensor::zeros({3, 4}, DType::f32);
  expect_invalid([&] { t.reshape({2, 5}); }, {"'shape'", "[2, 5]", "expected 12", "[3, 4]"});
}
TEST(InvalidArgs, RnnForwardXWithoutSteps) {
  RNN rnn(gru_desc());
  expect_invalid([&] { rnn.forward(f32({0, kB, kI})); }, {"'x'", "[0, 3, 7]"});
}
TEST(InvalidArgs, RnnBackwardWithoutForwardTrain) {
  RNN rnn(gru_desc());
  rnn.forward(f32({kT, kB, kI}));  // inference saves nothing
  const Tensor dy = f32({kT, kB, kH});
  expect_invalid([&] { rnn.backward(dy); }, {"forward_train"});
}
TEST(InvalidArgs, RnnBackwardAfterFailedForwardTrain) {
  RNN rnn(gru_desc());
  const Tensor dy = f32({kT, kB, kH});
  rnn.forward_train(f32({kT, kB, kI}));
  EXPECT_NO_THROW(rnn.backward(dy));
  const Tensor bad_x = f32({kT, kB, kI + 1});
  expect_invalid([&] { rnn.forward_train(bad_x); }, {"'x'"});
  expect_invalid([&] { rnn.backward(dy); }, {"forward_train"});
}
TEST(InvalidArgs, RnnBackwardDyWrongShape) {
  RNN rnn(gru_desc());
  rnn.forward_train(f32({kT, kB, kI}));
  const Tensor dy = f32({kT, kB, kH + 1});
  expect_invalid([&] { rnn.backward(dy); }, {"'dy'", "expected [5, 3, 6] f32"});
}



TEST(InvalidArgs, RnnFromDefaultConstructedWeights) {
  expect_invalid([] { RNN rnn{RNNWeights()}; }, {"'weights'", "empty"});
}

}  // namespace
}  // namespace gpurnn::invalid_args
