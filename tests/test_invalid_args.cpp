// Every invalid argument gets the library's error (gpurnn::Error, code invalid_argument, or
// unsupported where documented) with a message that names the argument in quotes and, where it
// applies, the expected shape or value. Each test starts from valid arguments and breaks one.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>

#include "gpurnn/gpurnn.h"
#include "test_support.h"

namespace gpurnn {
namespace {

using Parts = std::initializer_list<std::string>;

// fn must throw gpurnn::Error with `code` and a message containing every one of `parts`.
void expect_error(const std::function<void()>& fn, ErrorCode code, Parts parts) {
  try {
    fn();
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_STREQ(to_string(e.code()), to_string(code)) << "message: " << msg;
    for (const std::string& p : parts) {
      EXPECT_NE(msg.find(p), std::string::npos)
          << "message \"" << msg << "\" lacks \"" << p << "\"";
    }
    return;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw a non-gpurnn exception: " << e.what();
    return;
  } catch (...) {
    ADD_FAILURE() << "threw something that is not a std::exception";
    return;
  }
  ADD_FAILURE() << "no error was thrown";
}
void expect_invalid(const std::function<void()>& fn, Parts parts) {
  expect_error(fn, ErrorCode::invalid_argument, parts);
}

constexpr std::int64_t kT = 5, kB = 3, kI = 7, kH = 6;

// LSTM, 2 layers, bidirectional, projected: x [5, 3, 7], y [5, 3, 4], h [4, 3, 2], c [4, 3, 6].
RNNDescriptor lstm_desc() {
  RNNDescriptor d;
  d.cell = CellKind::lstm;
  d.input_size = kI;
  d.hidden_size = kH;
  d.num_layers = 2;
  d.bidirectional = true;
  d.proj_size = 2;
  return d;
}

// GRU, 1 layer: x [5, 3, 7], y [5, 3, 6], h [1, 3, 6].
RNNDescriptor gru_desc() {
  RNNDescriptor d;
  d.cell = CellKind::gru;
  d.input_size = kI;
  d.hidden_size = kH;
  return d;
}

Tensor f32(Shape s) { return testing::random_tensor(s, DType::f32, 7, 1); }
Tensor bytes(std::size_t n) { return Tensor::zeros({static_cast<std::int64_t>(n)}, DType::u8); }
// The first n bytes of `t`.
TensorView prefix(Tensor& t, std::size_t n) {
  return TensorView(t.data(), {static_cast<std::int64_t>(n)}, DType::u8);
}

// Valid buffers for one forward + backward; a valid training forward has already run.
struct Problem {
  RNNDescriptor desc;
  bool batch_first;
  std::unique_ptr<Backend> backend = make_backend("cpu");
  RNNWeights w, grads;
  Tensor x, lengths, h0, c0, y, hn, cn, dy, dhn, dcn, dx, dh0, dc0, workspace, reserve;
  std::size_t ws_bytes = 0, reserve_bytes = 0;

  explicit Problem(const RNNDescriptor& d, bool bf = false) : desc(d), batch_first(bf) {
    w = RNNWeights(d, DType::f32);
    w.init_uniform(3);
    grads = RNNWeights(d, DType::f32);
    const std::int32_t lens[kB] = {5, 2, 4};
    lengths = Tensor::from_host<std::int32_t>({kB}, lens);
    for (Tensor* t : {&x, &dx}) *t = f32(seq(d.input_size));
    for (Tensor* t : {&y, &dy}) *t = f32(seq(d.output_size()));
    for (Tensor* t : {&h0, &hn, &dhn, &dh0}) *t = f32(state(d.state_size()));
    if (d.has_cell_state()) {
      for (Tensor* t : {&c0, &cn, &dcn, &dc0}) *t = f32(state(d.hidden_size));
    }
    const SequenceShape s{kT, kB, bf};
    ws_bytes = backend->workspace_size(d, s, DType::f32, ForwardMode::training);
    reserve_bytes = backend->reserve_size(d, s, DType::f32);
    // Large enough for inference too (whose layout differs from training's).
    workspace = bytes(
        std::max(ws_bytes, backend->workspace_size(d, s, DType::f32, ForwardMode::inference)));
    reserve = bytes(reserve_bytes);
    backend->forward(w, fwd());
  }

  Shape seq(std::int64_t f) const { return batch_first ? Shape{kB, kT, f} : Shape{kT, kB, f}; }
  Shape state(std::int64_t units) const {
    return {static_cast<std::int64_t>(desc.num_layers) * desc.num_directions(), kB, units};
  }

  ForwardArgs fwd(ForwardMode mode = ForwardMode::training) {
    ForwardArgs a;
    a.mode = mode;
    a.batch_first = batch_first;
    a.x = x, a.lengths = lengths, a.h0 = h0, a.c0 = c0;
    a.y = y, a.hn = hn, a.cn = cn;
    a.workspace = workspace, a.reserve = reserve;
    return a;
  }
  BackwardDataArgs bwd() {
    BackwardDataArgs a;
    a.batch_first = batch_first;
    a.lengths = lengths, a.dy = dy, a.dhn = dhn, a.dcn = dcn;
    a.dx = dx, a.dh0 = dh0, a.dc0 = dc0;
    a.workspace = workspace, a.reserve = reserve;
    return a;
  }
  BackwardWeightsArgs bww() {
    BackwardWeightsArgs a;
    a.batch_first = batch_first;
    a.x = x, a.workspace = workspace, a.reserve = reserve;
    return a;
  }

  template <class Args>
  Args args() {
    if constexpr (std::is_same_v<Args, ForwardArgs>) return fwd();
    if constexpr (std::is_same_v<Args, BackwardDataArgs>) return bwd();
    if constexpr (std::is_same_v<Args, BackwardWeightsArgs>) return bww();
  }

  std::function<void()> run(ForwardArgs a) {
    return [this, a] { backend->forward(w, a); };
  }
  std::function<void()> run(BackwardDataArgs a) {
    return [this, a] { backend->backward_data(w, a); };
  }
  std::function<void()> run(BackwardWeightsArgs a, RNNWeights* g = nullptr) {
    return [this, a, g] { backend->backward_weights(w, a, g != nullptr ? *g : grads); };
  }
};

// Valid arguments of a fresh problem with one field replaced by `t` must be rejected with `parts`.
template <class Args, class View>
void replaced(const RNNDescriptor& d, View Args::*field, Tensor t, Parts parts, bool bf = false) {
  Problem p(d, bf);
  Args a = p.args<Args>();
  a.*field = t;
  expect_invalid(p.run(a), parts);
}
// The same with the field set to a view of the problem's own buffer `buffer`, made by `make`.
template <class Args, class View>
void rebound(const RNNDescriptor& d, View Args::*field, Tensor Problem::*buffer,
             View (*make)(Problem&, Tensor&), Parts parts) {
  Problem p(d);
  Args a = p.args<Args>();
  a.*field = make(p, p.*buffer);
  expect_invalid(p.run(a), parts);
}
template <class View>
View on_cuda(Problem&, Tensor& t) {
  return View(t.data(), t.shape(), t.dtype(), Device::cuda(1));
}
TensorView one_byte_short(Problem& p, Tensor& t) {
  return prefix(t, &t == &p.reserve ? p.reserve_bytes - 1 : p.ws_bytes - 1);
}
Tensor f64(Shape s) { return testing::random_tensor(s, DType::f64, 7, 1); }
std::string at_least(std::size_t n) { return "at least " + std::to_string(n); }

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
TEST(InvalidArgs, ForwardAliasedArguments) {  // backend.h: "No argument may alias another."
  rebound(lstm_desc(), &ForwardArgs::hn, &Problem::h0,
          +[](Problem&, Tensor& h0) { return h0.view(); }, {"'hn'"});
}

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
TEST(InvalidArgs, BackendOptionsNegativeThreads) {
  BackendOptions options;
  options.num_threads = -1;
  expect_invalid([&] { make_backend("cpu", options); }, {"'options.num_threads'", "-1"});
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

}  // namespace
}  // namespace gpurnn
