// RNNDescriptor helpers, the PyTorch parameter layout, RNNWeights access and initialisation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "gpurnn/gpurnn.h"
#include "test_support.h"

namespace gpurnn {
namespace {

RNNDescriptor make_desc(CellKind cell, std::int64_t input, std::int64_t hidden, int layers = 1,
                        bool bidirectional = false, bool bias = true, std::int64_t proj = 0) {
  RNNDescriptor d;
  d.cell = cell;
  d.input_size = input;
  d.hidden_size = hidden;
  d.num_layers = layers;
  d.bidirectional = bidirectional;
  d.bias = bias;
  d.proj_size = proj;
  return d;
}

// A variety of descriptors for the properties every layout must have.
std::vector<RNNDescriptor> sample_descs() {
  return {make_desc(CellKind::lstm, 5, 6, 2, true, true, 2),
          make_desc(CellKind::lstm, 3, 4, 3, false, false, 0),
          make_desc(CellKind::gru, 4, 5, 2, false, false),
          make_desc(CellKind::gru, 2, 3, 1, true, true),
          make_desc(CellKind::rnn_relu, 3, 4, 1, true),
          make_desc(CellKind::rnn_tanh, 8, 2, 2),
          make_desc(CellKind::rnn_sigmoid, 1, 1, 1)};
}

struct Expected {
  std::string name;
  Shape shape;
};

void expect_layout(const RNNDescriptor& desc, const std::vector<Expected>& expected) {
  SCOPED_TRACE(to_string(desc));
  const std::vector<ParameterInfo> layout = parameter_layout(desc);
  ASSERT_EQ(layout.size(), expected.size());
  for (std::size_t k = 0; k < expected.size(); ++k) {
    EXPECT_EQ(layout[k].name, expected[k].name) << "parameter " << k;
    EXPECT_EQ(layout[k].shape, expected[k].shape)
        << layout[k].name << ": " << to_string(layout[k].shape) << " vs "
        << to_string(expected[k].shape);
  }
}

// Each parameter's kind, layer and direction agree with its name.
void expect_fields_match_names(const std::vector<ParameterInfo>& layout) {
  const char* prefixes[] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"};
  for (const ParameterInfo& p : layout) {
    std::string name =
        std::string(prefixes[static_cast<int>(p.kind)]) + "_l" + std::to_string(p.layer);
    if (p.direction == 1) name += "_reverse";
    EXPECT_EQ(p.name, name);
  }
}

std::vector<double> values(const RNNWeights& w) {
  std::vector<double> out(static_cast<std::size_t>(w.numel()));
  for (std::size_t k = 0; k < out.size(); ++k) {
    out[k] = w.dtype() == DType::f32 ? static_cast<double>(w.flat().data_as<float>()[k])
                                     : w.flat().data_as<double>()[k];
  }
  return out;
}

// ---- descriptor ---------------------------------------------------------------------------------
TEST(DescriptorWeights, DescriptorHelpers) {
  const RNNDescriptor lstm = make_desc(CellKind::lstm, 10, 8, 3, true, true, 3);
  EXPECT_EQ(lstm.num_directions(), 2);
  EXPECT_EQ(lstm.gates(), 4);
  EXPECT_EQ(lstm.state_size(), 3);
  EXPECT_EQ(lstm.output_size(), 6);
  EXPECT_EQ(lstm.layer_input_size(0), 10);
  EXPECT_EQ(lstm.layer_input_size(1), 6);
  EXPECT_EQ(lstm.layer_input_size(2), 6);
  EXPECT_TRUE(lstm.has_cell_state());

  const RNNDescriptor gru = make_desc(CellKind::gru, 10, 8, 2);
  EXPECT_EQ(gru.num_directions(), 1);
  EXPECT_EQ(gru.gates(), 3);
  EXPECT_EQ(gru.state_size(), 8);
  EXPECT_EQ(gru.output_size(), 8);
  EXPECT_EQ(gru.layer_input_size(1), 8);
  EXPECT_FALSE(gru.has_cell_state());

  const RNNDescriptor bi = make_desc(CellKind::rnn_tanh, 4, 5, 2, true);
  EXPECT_EQ(bi.output_size(), 10);
  EXPECT_EQ(bi.layer_input_size(1), 10);
  for (CellKind c : {CellKind::rnn_tanh, CellKind::rnn_relu, CellKind::rnn_sigmoid}) {
    EXPECT_EQ(gates_per_cell(c), 1);
    EXPECT_FALSE(make_desc(c, 1, 1).has_cell_state());
  }
  EXPECT_EQ(gates_per_cell(CellKind::lstm), 4);
  EXPECT_EQ(gates_per_cell(CellKind::gru), 3);
  for (const RNNDescriptor& d : sample_descs()) EXPECT_NO_THROW(d.validate()) << to_string(d);
}

TEST(DescriptorWeights, DescriptorToString) {
  RNNDescriptor d = make_desc(CellKind::lstm, 32, 64, 2, true, true, 16);
  d.dropout = 0.1;
  EXPECT_EQ(to_string(d), "lstm(I=32, H=64, layers=2, bidirectional, proj=16, dropout=0.1)");
  EXPECT_EQ(to_string(make_desc(CellKind::gru, 3, 4, 1, false, false)),
            "gru(I=3, H=4, layers=1, no bias)");
  EXPECT_EQ(to_string(make_desc(CellKind::rnn_relu, 1, 2)), "rnn_relu(I=1, H=2, layers=1)");
}

TEST(DescriptorWeights, CellKindRoundTrip) {
  for (CellKind c : {CellKind::rnn_tanh, CellKind::rnn_relu, CellKind::rnn_sigmoid, CellKind::lstm,
                     CellKind::gru}) {
    EXPECT_EQ(parse_cell_kind(to_string(c)), c) << to_string(c);
  }
  EXPECT_STREQ(to_string(CellKind::rnn_sigmoid), "rnn_sigmoid");
}

// ---- parameter layout ---------------------------------------------------------------------------
TEST(DescriptorWeights, LayoutBidirectionalProjectedLstm) {
  // I = 5, H = 6, P = 2, 2 layers, bidirectional: layer 1 sees D * P = 4 features.
  const RNNDescriptor d = make_desc(CellKind::lstm, 5, 6, 2, true, true, 2);
  expect_layout(d, {{"weight_ih_l0", {24, 5}},
                    {"weight_hh_l0", {24, 2}},
                    {"bias_ih_l0", {24}},
                    {"bias_hh_l0", {24}},
                    {"weight_hr_l0", {2, 6}},
                    {"weight_ih_l0_reverse", {24, 5}},
                    {"weight_hh_l0_reverse", {24, 2}},
                    {"bias_ih_l0_reverse", {24}},
                    {"bias_hh_l0_reverse", {24}},
                    {"weight_hr_l0_reverse", {2, 6}},
                    {"weight_ih_l1", {24, 4}},
                    {"weight_hh_l1", {24, 2}},
                    {"bias_ih_l1", {24}},
                    {"bias_hh_l1", {24}},
                    {"weight_hr_l1", {2, 6}},
                    {"weight_ih_l1_reverse", {24, 4}},
                    {"weight_hh_l1_reverse", {24, 2}},
                    {"bias_ih_l1_reverse", {24}},
                    {"bias_hh_l1_reverse", {24}},
                    {"weight_hr_l1_reverse", {2, 6}}});
  const std::vector<ParameterInfo> layout = parameter_layout(d);
  expect_fields_match_names(layout);
  EXPECT_EQ(layout[4].kind, ParamKind::weight_hr);
  EXPECT_EQ(layout[7].layer, 0);
  EXPECT_EQ(layout[7].direction, 1);
  EXPECT_EQ(layout[12].kind, ParamKind::bias_ih);
  EXPECT_EQ(layout[12].layer, 1);
  EXPECT_EQ(layout[12].direction, 0);
}

TEST(DescriptorWeights, LayoutGruWithoutBias) {
  const RNNDescriptor d = make_desc(CellKind::gru, 4, 5, 2, false, false);
  expect_layout(d, {{"weight_ih_l0", {15, 4}},
                    {"weight_hh_l0", {15, 5}},
                    {"weight_ih_l1", {15, 5}},
                    {"weight_hh_l1", {15, 5}}});
  expect_fields_match_names(parameter_layout(d));
}

TEST(DescriptorWeights, LayoutRnnRelu) {
  const RNNDescriptor d = make_desc(CellKind::rnn_relu, 3, 4, 1, true);
  expect_layout(d, {{"weight_ih_l0", {4, 3}},
                    {"weight_hh_l0", {4, 4}},
                    {"bias_ih_l0", {4}},
                    {"bias_hh_l0", {4}},
                    {"weight_ih_l0_reverse", {4, 3}},
                    {"weight_hh_l0_reverse", {4, 4}},
                    {"bias_ih_l0_reverse", {4}},
                    {"bias_hh_l0_reverse", {4}}});
  expect_fields_match_names(parameter_layout(d));
}

TEST(DescriptorWeights, OffsetsContiguousAndTotalIsNumel) {
  for (const RNNDescriptor& d : sample_descs()) {
    SCOPED_TRACE(to_string(d));
    const std::vector<ParameterInfo> layout = parameter_layout(d);
    std::int64_t next = 0;
    for (const ParameterInfo& p : layout) {
      EXPECT_EQ(p.offset, next) << p.name;
      next += p.shape.numel();
    }
    const RNNWeights w(d, DType::f32);
    EXPECT_EQ(w.numel(), next);
    EXPECT_EQ(w.flat().shape(), Shape{next});
    ASSERT_EQ(w.parameters().size(), layout.size());
    for (std::size_t k = 0; k < layout.size(); ++k) {
      EXPECT_EQ(w.parameters()[k].name, layout[k].name);
      EXPECT_EQ(w.parameters()[k].offset, layout[k].offset);
    }
  }
}

// ---- RNNWeights access --------------------------------------------------------------------------
TEST(DescriptorWeights, WeightsConstructedZeroOnCpu) {
  const RNNWeights w(make_desc(CellKind::gru, 3, 4, 2, true), DType::f64);
  EXPECT_EQ(w.dtype(), DType::f64);
  EXPECT_EQ(w.device(), Device::cpu());
  EXPECT_EQ(to_string(w.descriptor()), to_string(make_desc(CellKind::gru, 3, 4, 2, true)));
  for (double v : values(w)) ASSERT_EQ(v, 0.0);
}

TEST(DescriptorWeights, GetByNameAndByKindAgree) {
  for (DType dtype : {DType::f32, DType::f64}) {
    for (const RNNDescriptor& d : sample_descs()) {
      SCOPED_TRACE(to_string(d) + " " + to_string(dtype));
      RNNWeights w(d, dtype);
      const RNNWeights& cw = w;
      const auto* base = static_cast<const unsigned char*>(w.flat().data());
      for (const ParameterInfo& p : w.parameters()) {
        const TensorView by_name = w.get(p.name);
        const TensorView by_kind = w.get(p.kind, p.layer, p.direction);
        EXPECT_EQ(by_name.data(), by_kind.data()) << p.name;
        EXPECT_EQ(by_name.data(), base + p.offset * static_cast<std::int64_t>(dtype_size(dtype)));
        EXPECT_EQ(by_name.shape(), p.shape);
        EXPECT_EQ(by_kind.shape(), p.shape);
        EXPECT_EQ(by_name.dtype(), dtype);
        EXPECT_EQ(cw.get(p.name).data(), by_name.data());
        EXPECT_EQ(cw.get(p.kind, p.layer, p.direction).data(), by_name.data());
      }
    }
  }
}

TEST(DescriptorWeights, AbsentParametersGiveEmptyViews) {
  RNNWeights no_bias(make_desc(CellKind::lstm, 3, 4, 2, false, false), DType::f32);
  EXPECT_TRUE(no_bias.get(ParamKind::bias_ih, 0, 0).empty());
  EXPECT_TRUE(no_bias.get(ParamKind::bias_hh, 1, 0).empty());
  EXPECT_TRUE(no_bias.get(ParamKind::weight_hr, 0, 0).empty());  // no projection
  EXPECT_TRUE(no_bias.get(ParamKind::weight_ih, 0, 1).empty());  // unidirectional
  EXPECT_TRUE(no_bias.get(ParamKind::weight_ih, 2, 0).empty());  // only 2 layers
  EXPECT_FALSE(no_bias.get(ParamKind::weight_hh, 1, 0).empty());
  const RNNWeights& c = no_bias;
  EXPECT_TRUE(c.get(ParamKind::bias_hh, 0, 0).empty());
  EXPECT_THROW(no_bias.get("bias_ih_l0"), Error);
  EXPECT_THROW(no_bias.get("weight_hr_l0"), Error);
}

TEST(DescriptorWeights, CloneIsDeepAndZeroClears) {
  RNNWeights w(make_desc(CellKind::gru, 3, 4), DType::f32);
  w.init_uniform(5);
  RNNWeights copy = w.clone();
  EXPECT_NE(copy.flat().data(), w.flat().data());
  EXPECT_EQ(values(copy), values(w));
  EXPECT_EQ(copy.get("weight_hh_l0").data(),
            static_cast<unsigned char*>(copy.flat().data()) + copy.parameters()[1].offset * 4);
  w.zero();
  for (double v : values(w)) ASSERT_EQ(v, 0.0);
  EXPECT_NE(values(copy), values(w));
}

// ---- init_uniform -------------------------------------------------------------------------------
TEST(DescriptorWeights, InitUniformWithinBoundAndNotConstant) {
  for (const RNNDescriptor& d : sample_descs()) {
    for (DType dtype : {DType::f32, DType::f64}) {
      SCOPED_TRACE(to_string(d) + " " + to_string(dtype));
      RNNWeights w(d, dtype);
      w.init_uniform(11);
      const double bound = 1.0 / std::sqrt(static_cast<double>(d.hidden_size));
      const std::vector<double> v = values(w);
      for (double e : v) ASSERT_LE(std::abs(e), bound * (1 + 1e-7)) << e;
      const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
      EXPECT_LT(*lo, *hi) << "all values equal";
      if (v.size() >= 64) {  // enough draws to cover most of the interval
        EXPECT_LT(*lo, -0.5 * bound);
        EXPECT_GT(*hi, 0.5 * bound);
      }
      for (const ParameterInfo& p : w.parameters()) {  // no parameter left at zero
        const auto first = v.begin() + p.offset;
        EXPECT_TRUE(std::any_of(first, first + p.shape.numel(), [](double e) { return e != 0.0; }))
            << p.name;
      }
    }
  }
}

TEST(DescriptorWeights, InitUniformSeedReproducible) {
  const RNNDescriptor d = make_desc(CellKind::lstm, 5, 6, 2, true, true, 2);
  RNNWeights a(d, DType::f32), b(d, DType::f32), c(d, DType::f32);
  a.init_uniform(42);
  b.init_uniform(42);
  c.init_uniform(43);
  EXPECT_EQ(values(a), values(b));
  const std::vector<double> va = values(a), vc = values(c);
  std::size_t same = 0;
  for (std::size_t k = 0; k < va.size(); ++k) same += va[k] == vc[k] ? 1 : 0;
  EXPECT_LT(same, va.size() / 100 + 1) << "seeds 42 and 43 give nearly the same weights";
  a.init_uniform(42);  // re-initialising gives the same values again
  EXPECT_EQ(values(a), values(b));
}

TEST(DescriptorWeights, InitUniformParametersDiffer) {
  // Two parameters of the same shape must not get the same values.
  RNNWeights w(make_desc(CellKind::rnn_tanh, 4, 4, 1, true), DType::f64);
  w.init_uniform(1);
  const ConstTensorView a = w.get("weight_hh_l0"), b = w.get("weight_hh_l0_reverse");
  const ConstTensorView c = w.get("bias_ih_l0"), e = w.get("bias_hh_l0");
  EXPECT_FALSE(
      std::equal(a.data_as<double>(), a.data_as<double>() + a.numel(), b.data_as<double>()));
  EXPECT_FALSE(
      std::equal(c.data_as<double>(), c.data_as<double>() + c.numel(), e.data_as<double>()));
}

TEST(DescriptorWeights, InitUniformF32MatchesF64) {
  for (const RNNDescriptor& d : sample_descs()) {
    SCOPED_TRACE(to_string(d));
    RNNWeights w32(d, DType::f32), w64(d, DType::f64);
    w32.init_uniform(7);
    w64.init_uniform(7);
    const std::vector<double> a = values(w32), b = values(w64);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t k = 0; k < a.size(); ++k) {
      ASSERT_EQ(static_cast<float>(b[k]), static_cast<float>(a[k])) << "element " << k;
      ASSERT_NEAR(a[k], b[k], 1e-7 * std::max(1.0, std::abs(b[k])));
    }
  }
}


TEST(DescriptorWeights, ToDeviceCopiesDeeplyOrRefusesAMissingDevice) {
  RNNDescriptor d;
  d.cell = CellKind::gru;
  d.input_size = 3;
  d.hidden_size = 4;
  RNNWeights w(d, DType::f32);
  w.init_uniform(2);
  const RNNWeights copy = w.to(Device::cpu());
  EXPECT_EQ(copy.descriptor(), d);
  EXPECT_NE(copy.flat().data(), w.flat().data());
  EXPECT_EQ(testing::to_vector(copy.flat()), testing::to_vector(w.flat()));
  if (cuda_device_count() == 0) {
    testing::expect_error([&] { w.to(Device::cuda(0)); }, ErrorCode::unsupported, {"cuda:0"});
  }
}

// Weights over the caller's memory (what gpurnn.torch passes for CUDA tensors): the views point
// into the caller's buffer, a change there is what the next call reads, results equal owned
// weights', and a buffer of the wrong size or dtype is refused naming 'flat'.
TEST(DescriptorWeights, BorrowedWeightsUseTheCallersMemory) {
  RNNDescriptor d;
  d.cell = CellKind::lstm;
  d.input_size = 3;
  d.hidden_size = 4;
  d.num_layers = 2;
  d.bidirectional = true;
  RNNWeights owned(d, DType::f32);
  owned.init_uniform(5);
  std::vector<float> buffer(static_cast<std::size_t>(owned.numel()));
  std::copy(owned.flat().data_as<float>(), owned.flat().data_as<float>() + owned.numel(), buffer.begin());
  const RNNWeights borrowed =
      RNNWeights::borrow(d, TensorView(buffer.data(), {owned.numel()}, DType::f32));
  EXPECT_EQ(borrowed.flat().data(), buffer.data());
  EXPECT_EQ(borrowed.get("weight_hh_l1_reverse").data(),
            buffer.data() + (owned.get("weight_hh_l1_reverse").data_as<float>() - owned.flat().data_as<float>()));

  testing::FullRunInputs in;
  in.x = testing::random_tensor({5, 2, 3}, DType::f32, 7, 1);
  in.dy = testing::random_tensor({5, 2, 8}, DType::f32, 7, 2);
  auto cpu = make_backend("cpu");
  const testing::FullRun a = testing::full_run(*cpu, owned, in);
  const testing::FullRun b = testing::full_run(*cpu, borrowed, in);
  EXPECT_EQ(testing::to_vector(a.y), testing::to_vector(b.y));
  EXPECT_EQ(testing::to_vector(a.dweights.flat()), testing::to_vector(b.dweights.flat()));
  buffer[0] += 1.0f;  // weight_ih_l0[0, 0]
  EXPECT_NE(testing::to_vector(testing::full_run(*cpu, borrowed, in).y), testing::to_vector(a.y));

  std::vector<float> short_buffer(buffer.size() - 1);
  testing::expect_error(
      [&] { RNNWeights::borrow(d, TensorView(short_buffer.data(), {owned.numel() - 1}, DType::f32)); },
      ErrorCode::invalid_argument, {"RNNWeights::borrow", "'flat'", "elements"});
  std::vector<std::int32_t> ints(buffer.size());
  testing::expect_error([&] { RNNWeights::borrow(d, TensorView(ints.data(), {owned.numel()}, DType::i32)); },
                        ErrorCode::invalid_argument, {"'flat'", "f32, f64, bf16 or f16"});
}

}  // namespace
}  // namespace gpurnn
