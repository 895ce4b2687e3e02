// Prepared weights (backend.h PreparedWeights, Backend::prepare) on the cpu backend: calls on
// them give bit for bit what the same calls on the weights give; they are a snapshot, so later
// changes to the weights do not reach them and the weights may be destroyed; the packed forms
// are made once per layout and shared by threads; RNN and the training layer keep them only
// while the weights cannot have changed. Every other platform's prepared weights are compared
// with the cpu backend by RegistrySweep.

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gpurnn/rnn.h"
#include "sweep_cases.h"
#include "test_support.h"
#include "train/rnn_layer.h"

namespace gpurnn::testing {
namespace {

// Every output (and, training, every gradient) of `a` equal to `b`'s, element for element.
void expect_identical(const FullRun& a, const FullRun& b, ForwardMode mode, const std::string& what) {
  EXPECT_EQ(to_vector(a.y), to_vector(b.y)) << what << " y";
  EXPECT_EQ(to_vector(a.hn), to_vector(b.hn)) << what << " hn";
  if (b.cn.defined()) {
    EXPECT_EQ(to_vector(a.cn), to_vector(b.cn)) << what << " cn";
  }
  if (mode == ForwardMode::inference) return;
  EXPECT_EQ(to_vector(a.dx), to_vector(b.dx)) << what << " dx";
  EXPECT_EQ(to_vector(a.dh0), to_vector(b.dh0)) << what << " dh0";
  if (b.dc0.defined()) {
    EXPECT_EQ(to_vector(a.dc0), to_vector(b.dc0)) << what << " dc0";
  }
  EXPECT_EQ(to_vector(a.dweights.flat()), to_vector(b.dweights.flat())) << what << " weight gradients";
}

FullRun run_prepared(Backend& backend, const RNNWeights& weights, const PreparedWeights& prepared,
                     FullRunInputs in) {
  in.prepared = &prepared;
  return full_run(backend, weights, in);
}

std::vector<std::int32_t> lengths_of(std::int64_t batch) {
  std::vector<std::int32_t> lengths;
  for (std::int64_t b = 0; b < batch; ++b) lengths.push_back(static_cast<std::int32_t>(1 + b % kSweepSteps));
  return lengths;
}

RNNDescriptor descriptor(CellKind cell, int proj = 0, bool bidirectional = false) {
  RNNDescriptor d;
  d.cell = cell;
  d.input_size = 9;
  d.hidden_size = 24;
  d.num_layers = 2;
  d.proj_size = proj;
  d.bidirectional = bidirectional;
  return d;
}

// One prepared object serves every batch size, both modes and ragged lengths, in f32 (packed
// for oneDNN where built with it) and f64: the weights' own results, bit for bit, and the same
// bits on a repeated call.
TEST(PreparedWeights, CallsMatchTheWeightsBitForBit) {
  Backend& cpu = shared_backend("cpu");
  for (DType dtype : {DType::f32, DType::f64}) {
    for (const RNNDescriptor& d : {descriptor(CellKind::lstm), descriptor(CellKind::lstm, 7, true),
                                   descriptor(CellKind::gru), descriptor(CellKind::rnn_tanh, 0, true)}) {
      RNNWeights w(d, dtype);
      w.init_uniform(5);
      const std::shared_ptr<const PreparedWeights> prepared = cpu.prepare(w);
      for (std::int64_t batch : {1, 3, 32, 70, 3}) {  // 70: a packed input projection (420 rows)
        for (ForwardMode mode : {ForwardMode::inference, ForwardMode::training}) {
          const FullRunInputs in = sweep_inputs(d, lengths_of(batch), batch > 1, mode, false, dtype);
          const std::string what = case_name(d) + " " + to_string(dtype) + " B=" + std::to_string(batch);
          const FullRun on_prepared = run_prepared(cpu, w, *prepared, in), on_weights = full_run(cpu, w, in);
          expect_identical(on_prepared, on_weights, mode, what);
          expect_identical(run_prepared(cpu, w, *prepared, in), on_prepared, mode, what + " again");
        }
      }
    }
  }
}

// The contract of backend.h: prepared weights compute with the values they were made from;
// changing the weights afterwards leaves them as they were, and preparing again takes the change.
TEST(PreparedWeights, AreASnapshotOfTheWeightsWhenPrepared) {
  Backend& cpu = shared_backend("cpu");
  const RNNDescriptor d = descriptor(CellKind::lstm);
  RNNWeights w(d, DType::f32);
  w.init_uniform(1);
  const FullRunInputs in = sweep_inputs(d, lengths_of(4), false, ForwardMode::training);
  const FullRun before = full_run(cpu, w, in);
  const std::shared_ptr<const PreparedWeights> prepared = cpu.prepare(w);
  const FullRun before_prepared = run_prepared(cpu, w, *prepared, in);  // packs for this batch size
  expect_identical(before_prepared, before, ForwardMode::training, "prepared");

  w.init_uniform(2);  // in place: the same memory, new values
  const FullRun after = full_run(cpu, w, in);
  ASSERT_NE(to_vector(after.y), to_vector(before.y)) << "the change must show in the weights' own calls";
  expect_identical(run_prepared(cpu, w, *prepared, in), before_prepared, ForwardMode::training,
                   "the old prepared weights");
  expect_identical(run_prepared(cpu, w, *cpu.prepare(w), in), after, ForwardMode::training, "prepared again");
}

// Prepared weights hold no pointer into the weights they were made from.
TEST(PreparedWeights, OutliveTheWeightsTheyWereMadeFrom) {
  Backend& cpu = shared_backend("cpu");
  const RNNDescriptor d = descriptor(CellKind::gru, 0, true);
  RNNWeights kept(d, DType::f32);
  kept.init_uniform(3);
  std::shared_ptr<const PreparedWeights> prepared;
  {
    RNNWeights temporary = kept.clone();
    prepared = cpu.prepare(temporary);
    temporary.flat().fill(std::nan(""));  // poisoned, then freed
  }
  const FullRunInputs in = sweep_inputs(d, lengths_of(5), true, ForwardMode::training);
  expect_identical(run_prepared(cpu, kept, *prepared, in), run_prepared(cpu, kept, *cpu.prepare(kept), in),
                   ForwardMode::training, "after the weights were destroyed");
  EXPECT_EQ(to_vector(prepared->weights().flat()), to_vector(kept.flat()));
  EXPECT_EQ(prepared->backend_name(), "cpu");
}

#if GPURNN_TEST_HAVE_ONEDNN
// Packing happens on first use, once per weight matrix and layout: repeated calls add nothing,
// and another batch size reuses the copies (oneDNN's packed layout does not depend on the row
// count for these shapes, measured with oneDNN 2.6). Batch 1 packs nothing (GEMV on W_hh, and
// the T rows of the input projection are below kMinPackedProjectionRows); W_ih is packed once
// the projection has 400 rows or more.
TEST(PreparedWeights, PackEachLayoutOnce) {
  Backend& cpu = shared_backend("cpu");
  EXPECT_TRUE(cpu.prepare_packs(DType::f32));
  EXPECT_FALSE(cpu.prepare_packs(DType::f64)) << "f64 runs OpenBLAS, which has nothing to pack ahead";
  const RNNDescriptor d = descriptor(CellKind::lstm, 7);
  RNNWeights w(d, DType::f32);
  w.init_uniform(4);
  const std::shared_ptr<const PreparedWeights> prepared = cpu.prepare(w);
  EXPECT_EQ(prepared->packed_bytes(), 0u) << "nothing is packed before a call needs it";
  const auto forward = [&](std::int64_t batch, ForwardMode mode) {
    (void)run_prepared(cpu, w, *prepared, sweep_inputs(d, lengths_of(batch), false, mode));
    return prepared->packed_bytes();
  };
  EXPECT_EQ(forward(1, ForwardMode::inference), 0u);
  const std::size_t b8 = forward(8, ForwardMode::inference);
  // At least W_hh [4H, H_out] and W_hr [H_out, H] of both layers.
  EXPECT_GE(b8, 2 * (4 * 24 * 7 + 7 * 24) * sizeof(float));
  EXPECT_EQ(forward(8, ForwardMode::inference), b8) << "a second call packs nothing";
  const std::size_t trained = forward(8, ForwardMode::training);
  EXPECT_GT(trained, b8) << "backward_data multiplies by W_hh untransposed: its own packing";
  EXPECT_EQ(forward(8, ForwardMode::training), trained);
  EXPECT_EQ(forward(9, ForwardMode::training), trained) << "batch 9 shares batch 8's packed copies";
  // 70 sequences of kSweepSteps steps: 420 projection rows, so W_ih of both layers is packed.
  const std::size_t projected = forward(70, ForwardMode::inference);
  EXPECT_GE(projected, trained + (4 * 24 * 9 + 4 * 24 * 7) * sizeof(float));
  EXPECT_EQ(forward(71, ForwardMode::inference), projected);
}
#endif

// Several threads calling with one prepared object at once (each with its own buffers) get what
// prepared weights give on one thread: the lazily made packings and oneDNN's scratchpad are shared safely.
TEST(PreparedWeights, ServeSeveralThreadsAtOnce) {
  Backend& cpu = shared_backend("cpu");
  const RNNDescriptor d = descriptor(CellKind::lstm);
  RNNWeights w(d, DType::f32);
  w.init_uniform(6);
  const std::shared_ptr<const PreparedWeights> prepared = cpu.prepare(w);
  constexpr int kThreads = 4;
  std::vector<FullRunInputs> inputs;
  std::vector<FullRun> expected;
  for (int t = 0; t < kThreads; ++t) {
    inputs.push_back(sweep_inputs(d, lengths_of(6 + t % 2), true, ForwardMode::inference));
    inputs.back().x = random_tensor(inputs.back().x.shape(), DType::f32, 90 + t, 1);
    expected.push_back(run_prepared(cpu, w, *cpu.prepare(w), inputs.back()));
  }
  std::vector<std::vector<FullRun>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) got[t].push_back(run_prepared(cpu, w, *prepared, inputs[t]));
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    for (const FullRun& r : got[t]) expect_identical(r, expected[t], ForwardMode::inference, "thread " + std::to_string(t));
  }
}

// A backend that runs nothing: its prepare() is Backend's default (a snapshot named "other").
class OtherBackend final : public Backend {
 public:
  using Backend::backward_data;
  using Backend::forward;
  std::string name() const override { return "other"; }
  Device device() const override { return Device::cpu(); }
  std::optional<std::string> unsupported_reason(const RNNDescriptor&, DType) const override { return std::nullopt; }
  std::size_t workspace_size(const RNNDescriptor&, const SequenceShape&, DType, ForwardMode) const override { return 0; }
  std::size_t reserve_size(const RNNDescriptor&, const SequenceShape&, DType) const override { return 0; }
  void forward(const RNNWeights&, const ForwardArgs&) override { ++forwards; }
  void backward_data(const RNNWeights&, const BackwardDataArgs&) override {}
  void backward_weights(const RNNWeights&, const BackwardWeightsArgs&, RNNWeights&) override {}
  int forwards = 0;
};

TEST(PreparedWeights, AreTakenOnlyByTheKindOfBackendThatPreparedThem) {
  Backend& cpu = shared_backend("cpu");
  OtherBackend other;
  RNNWeights w(descriptor(CellKind::gru), DType::f32);
  w.init_uniform(7);
  EXPECT_FALSE(other.prepare_packs(DType::f32));
  const std::shared_ptr<const PreparedWeights> theirs = other.prepare(w);
  EXPECT_EQ(theirs->backend_name(), "other");
  EXPECT_EQ(theirs->packed_bytes(), 0u);
  other.forward(*theirs, ForwardArgs{});
  EXPECT_EQ(other.forwards, 1) << "the default forward on prepared weights calls forward on the snapshot";
  expect_error([&] { cpu.forward(*theirs, ForwardArgs{}); }, ErrorCode::invalid_argument,
               {"forward: argument 'weights'", "prepared by backend 'other'", "this is backend 'cpu'"});
  expect_error([&] { other.backward_data(*cpu.prepare(w), BackwardDataArgs{}); }, ErrorCode::invalid_argument,
               {"backward_data: argument 'weights'", "prepared by backend 'cpu'"});
  expect_error([&] { (void)cpu.prepare(RNNWeights()); }, ErrorCode::invalid_argument,
               {"prepare: argument 'weights'", "empty"});
}

// RNN::forward computes with prepared weights, kept across calls and dropped whenever the
// weights may have changed; the caller's contract for changes through a kept reference.
TEST(PreparedWeights, RnnKeepsThemUntilTheWeightsMayChange) {
  const RNNDescriptor d = descriptor(CellKind::lstm);
  RNN rnn(d, DType::f32, "cpu", 8);
  const Tensor x = random_tensor({5, 4, d.input_size}, DType::f32, 8, 1);
  const std::vector<double> y0 = to_vector(rnn.forward(x).y);
  const bool packs = rnn.backend().prepare_packs(DType::f32);
  const std::shared_ptr<const PreparedWeights> first = rnn.prepared_weights();
  EXPECT_EQ(first != nullptr, packs);
  EXPECT_EQ(to_vector(rnn.forward(x).y), y0);
  EXPECT_EQ(rnn.prepared_weights(), first) << "a second forward reuses the prepared weights";

  // Through weights(): dropped, and the next forward sees the change.
  rnn.weights().init_uniform(9);
  EXPECT_EQ(rnn.prepared_weights(), nullptr);
  const std::vector<double> y1 = to_vector(rnn.forward(x).y);
  EXPECT_NE(y1, y0);
  EXPECT_EQ(y1, to_vector(RNN(rnn.weights().clone(), "cpu").forward(x).y));

  // Through a Tensor kept from earlier: the documented contract. Without weights_changed()
  // forward keeps the snapshot (where the backend packs); with it, forward sees the change.
  Tensor flat = rnn.weights().flat();
  (void)rnn.forward(x);
  flat.fill(0.01);
  const std::vector<double> stale = to_vector(rnn.forward(x).y);
  EXPECT_EQ(stale == y1, packs);
  rnn.weights_changed();
  const std::vector<double> fresh = to_vector(rnn.forward(x).y);
  EXPECT_NE(fresh, y1);
  EXPECT_EQ(fresh, to_vector(RNN(rnn.weights().clone(), "cpu").forward(x).y));

  // Training drops them: an optimizer step follows.
  (void)rnn.forward(x);
  (void)rnn.forward_train(x);
  EXPECT_EQ(rnn.prepared_weights(), nullptr);
}

// The training layer: a decoder's steps reuse prepared weights; forward, backward and
// parameter() drop them.
TEST(PreparedWeights, TrainingLayerKeepsThemOnlyBetweenTrainingSteps) {
  const RNNDescriptor d = descriptor(CellKind::lstm);
  train::RnnLayer layer(d, DType::f32, "cpu", 3);
  const bool packs = make_backend("cpu")->prepare_packs(DType::f32);
  const Tensor x = random_tensor({1, 4, d.input_size}, DType::f32, 3, 1);
  const Tensor dy = random_tensor({1, 4, d.output_size()}, DType::f32, 3, 2);
  const Tensor y0 = layer.step(x.reshape({4, d.input_size}), Tensor(), Tensor(), nullptr).y;
  const PreparedWeights* decoding = layer.prepared_weights();
  EXPECT_EQ(decoding != nullptr, packs);
  (void)layer.step(x.reshape({4, d.input_size}), Tensor(), Tensor(), nullptr);
  EXPECT_EQ(layer.prepared_weights(), decoding) << "a decoder's steps share one prepared copy";

  (void)layer.forward(x, Tensor(), Tensor(), Tensor(), ForwardMode::training, 0, nullptr);
  EXPECT_EQ(layer.prepared_weights(), nullptr);
  (void)layer.step(x.reshape({4, d.input_size}), Tensor(), Tensor(), nullptr);
  (void)layer.forward(x, Tensor(), Tensor(), Tensor(), ForwardMode::inference, 0, nullptr);
  EXPECT_EQ(layer.prepared_weights(), nullptr) << "a whole-sequence forward drops them";
  (void)layer.forward(x, Tensor(), Tensor(), Tensor(), ForwardMode::training, 0, nullptr);
  (void)layer.backward(dy, Tensor(), false, nullptr);
  EXPECT_EQ(layer.prepared_weights(), nullptr);

  // An optimizer's change through parameter(): the next step computes with it.
  (void)layer.step(x.reshape({4, d.input_size}), Tensor(), Tensor(), nullptr);
  train::Parameter p = layer.parameter("rnn");
  EXPECT_EQ(layer.prepared_weights(), nullptr);
  p.value.fill(0.02);
  const Tensor y1 = layer.step(x.reshape({4, d.input_size}), Tensor(), Tensor(), nullptr).y;
  EXPECT_NE(to_vector(y1), to_vector(y0));
  RNNWeights same(d, DType::f32);
  same.flat().fill(0.02);
  RNN reference(same, "cpu");
  EXPECT_EQ(to_vector(y1), to_vector(reference.forward(x).y.reshape({4, d.output_size()})));
}

}  // namespace
}  // namespace gpurnn::testing
