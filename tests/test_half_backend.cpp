// The cpu backend in bf16 and f16 (engine/half_calls.h, the README's precision rule), the parts
// that have exact answers: one step is the f32 step rounded once; prepared half weights compute
// what the weights do, bit for bit; half gradients are f32 and close to f64's; and bad
// arguments. The whole-sequence comparison with the derived bound is test_half_sweep.cpp.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "half_test_support.h"
#include "test_support.h"
#if GPURNN_TEST_HAVE_ONEDNN  // 0 or 1 (tests/CMakeLists.txt)
#include "cpu/packed_gemm.h"
#endif

namespace gpurnn::testing {
namespace {

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.bytes() == b.bytes() && std::memcmp(a.data(), b.data(), a.bytes()) == 0;
}

// With one step and one layer, every GEMM operand is a half value already, so the half call
// computes exactly what the f32 call on the widened values computes, and rounds y, hn and cn
// once: bit for bit, for every cell and both directions.
TEST(HalfBackend, OneStepIsTheF32StepRoundedOnce) {
  for (DType half : kHalves) {
    for (CellKind cell : {CellKind::lstm, CellKind::gru, CellKind::rnn_tanh, CellKind::rnn_relu}) {
      for (bool bidirectional : {false, true}) {
        const RNNDescriptor d = descriptor(cell, bidirectional);
        RNNWeights w(d, half);
        w.init_uniform(3);
        FullRunInputs in = random_inputs(d, 1, 4, half, false);
        in.mode = ForwardMode::inference;
        const FullRun h = full_run(shared_backend("cpu"), w, in);
        const FullRun f = full_run(shared_backend("cpu"), weights_in(w, DType::f32), converted(in, DType::f32));
        const std::string where = std::string(to_string(half)) + " " + case_name(d);
        EXPECT_EQ(h.y.dtype(), half) << where;
        EXPECT_TRUE(same_bits(h.y, f.y.to(half))) << where;
        EXPECT_TRUE(same_bits(h.hn, f.hn.to(half))) << where;
        if (d.has_cell_state()) {
          EXPECT_TRUE(same_bits(h.cn, f.cn.to(half))) << where;
        }
      }
    }
  }
}

// Over a sequence h_t is rounded at every step, so the half result differs from the f32 one
// (the f32 call never rounds): the test above would not hold, and must not.
TEST(HalfBackend, ASequenceRoundsEveryStep) {
  const RNNDescriptor d = descriptor(CellKind::lstm);
  RNNWeights w(d, DType::bf16);
  w.init_uniform(3);
  FullRunInputs in = random_inputs(d, 6, 4, DType::bf16, false);
  in.mode = ForwardMode::inference;
  const FullRun h = full_run(shared_backend("cpu"), w, in);
  const FullRun f = full_run(shared_backend("cpu"), weights_in(w, DType::f32), converted(in, DType::f32));
  EXPECT_FALSE(same_bits(h.y, f.y.to(DType::bf16)));
  EXPECT_LT(relative_error(h.y.to(DType::f64), f.y.to(DType::f64)), 0.02);
}

// With a projection the backward multiplies in f32; without one, by bf16 W (oneDNN's bf16 matmul
// where the CPU has it): both paths, prepared or not, give the same bits.
TEST(HalfBackend, PreparedWeightsComputeWhatTheWeightsDo) {
  for (DType half : kHalves) {
   for (const RNNDescriptor& d : {descriptor(CellKind::lstm, true, 2, 3), descriptor(CellKind::gru, true, 2)}) {
    RNNWeights w(d, half);
    w.init_uniform(4);
    const std::shared_ptr<const PreparedWeights> prepared = shared_backend("cpu").prepare(w);
    EXPECT_GE(prepared->packed_bytes(), static_cast<std::size_t>(w.numel()) * sizeof(float))
        << "the widened copy is counted";
    FullRunInputs in = random_inputs(d, 5, 3, half, true);
    const FullRun plain = full_run(shared_backend("cpu"), w, in);
    in.prepared = prepared.get();
    const FullRun again = full_run(shared_backend("cpu"), w, in);
    EXPECT_TRUE(same_bits(plain.y, again.y)) << to_string(half);
    EXPECT_TRUE(same_bits(plain.dx, again.dx)) << to_string(half);
    EXPECT_TRUE(same_bits(plain.dweights.flat(), again.dweights.flat())) << to_string(half);
   }
  }
}

// The backward's results against f64 (tests/half_test_support.h, expect_half_gradients_near_f64).
TEST(HalfBackend, GradientsAreF32AndAgreeWithF64) { expect_half_gradients_near_f64("cpu"); }

TEST(HalfBackend, RnnModuleTrainsInHalfWithF32Gradients) {
  const RNNDescriptor d = descriptor(CellKind::gru);
  RNN rnn(d, DType::bf16, "cpu", 2);
  const Tensor x = random_tensor({4, 2, d.input_size}, DType::bf16, 1, 1);
  const RNNOutput out = rnn.forward_train(x);
  EXPECT_EQ(out.y.dtype(), DType::bf16);
  const RNNGradients g = rnn.backward(random_tensor(out.y.shape(), DType::bf16, 1, 2));
  EXPECT_EQ(g.dweights.dtype(), DType::f32);
  EXPECT_EQ(g.dx.dtype(), DType::bf16);
  EXPECT_TRUE(all_finite(g.dweights.flat()));
  // Inference reuses a prepared snapshot (the widened weights) and gives the training forward's y.
  EXPECT_TRUE(same_bits(rnn.forward(x).y, out.y));
  EXPECT_NE(rnn.prepared_weights(), nullptr);
}

TEST(HalfBackend, MixedDtypesAreRefusedNamingTheArgument) {
  const RNNDescriptor d = descriptor(CellKind::lstm);
  RNNWeights w(d, DType::f32);
  FullRunInputs in = random_inputs(d, 3, 2, DType::f32, false);
  in.h0 = in.h0.to(DType::bf16);
  expect_error([&] { full_run(shared_backend("cpu"), w, in); }, ErrorCode::invalid_argument,
               {"forward", "h0", "bf16", "expected", "f32"});
  RNNWeights wh(d, DType::bf16);
  FullRunInputs f32_inputs = random_inputs(d, 3, 2, DType::f32, false);
  expect_error([&] { full_run(shared_backend("cpu"), wh, f32_inputs); }, ErrorCode::invalid_argument,
               {"forward", "x", "f32", "expected", "bf16"});
}

TEST(HalfBackend, HalfWeightsWantF32Gradients) {
  const RNNDescriptor d = descriptor(CellKind::gru);
  RNNWeights w(d, DType::f16);
  w.init_uniform(1);
  const SequenceShape shape{3, 2, false};
  Backend& cpu = shared_backend("cpu");
  Tensor ws = Tensor::zeros({static_cast<std::int64_t>(cpu.workspace_size(d, shape, DType::f16, ForwardMode::training))}, DType::u8);
  Tensor rs = Tensor::zeros({static_cast<std::int64_t>(cpu.reserve_size(d, shape, DType::f16))}, DType::u8);
  const Tensor x = random_tensor({3, 2, d.input_size}, DType::f16, 1, 1);
  Tensor y = Tensor::empty({3, 2, d.output_size()}, DType::f16);
  ForwardArgs fa;
  fa.mode = ForwardMode::training;
  fa.x = x.view();
  fa.y = y.view();
  fa.workspace = ws.view();
  fa.reserve = rs.view();
  cpu.forward(w, fa);
  Tensor dx = Tensor::empty(x.shape(), DType::f16);
  BackwardDataArgs bd;
  bd.dy = y.view();
  bd.dx = dx.view();
  bd.workspace = ws.view();
  bd.reserve = rs.view();
  cpu.backward_data(w, bd);
  BackwardWeightsArgs bw;
  bw.x = x.view();
  bw.workspace = ws.view();
  bw.reserve = rs.view();
  RNNWeights half_grads(d, DType::f16);
  expect_error([&] { cpu.backward_weights(w, bw, half_grads); }, ErrorCode::invalid_argument,
               {"backward_weights", "grads", "f16", "expected f32", "gradients of f16 weights are f32"});
  RNNWeights grads(d, DType::f32);
  cpu.backward_weights(w, bw, grads);
  EXPECT_TRUE(all_finite(grads.flat()));
}

// CTest runs this file again with oneDNN capped at AVX2 (half.without_bf16_matmul): there the
// bf16 calls above must have taken the widened-f32 path, which this checks was the one in use.
TEST(HalfBackend, Bf16MatmulIsOffWhereOneDnnHasNoFastKernel) {
#if GPURNN_TEST_HAVE_ONEDNN  // 0 or 1 (tests/CMakeLists.txt)
  const char* cap = std::getenv("DNNL_MAX_CPU_ISA");
  if (cap == nullptr || std::string(cap) != "AVX2") GTEST_SKIP() << "only with DNNL_MAX_CPU_ISA=AVX2";
  EXPECT_FALSE(cpu::onednn_bf16_matmul());
#else
  GTEST_SKIP() << "built without oneDNN";
#endif
}

TEST(HalfBackend, DTypeNamesAndRoundoff) {
  EXPECT_EQ(parse_dtype("bf16"), DType::bf16);
  EXPECT_EQ(parse_dtype("bfloat16"), DType::bf16);
  EXPECT_EQ(parse_dtype("half"), DType::f16);
  EXPECT_EQ(parse_dtype("float16"), DType::f16);
  EXPECT_EQ(dtype_size(DType::bf16), 2u);
  EXPECT_TRUE(is_floating(DType::f16));
  EXPECT_TRUE(is_half(DType::bf16));
  EXPECT_FALSE(is_half(DType::f32));
  EXPECT_EQ(unit_roundoff(DType::bf16), std::ldexp(1.0, -8));
  EXPECT_EQ(unit_roundoff(DType::f16), std::ldexp(1.0, -11));
  expect_error([] { unit_roundoff(DType::i32); }, ErrorCode::invalid_argument, {"unit_roundoff", "i32"});
}

}  // namespace
}  // namespace gpurnn::testing
