// RNN weights through safetensors: save/load round trips for every cell kind, half weights
// (bf16/f16) saved and loaded bit for bit, inference of the descriptor from names and shapes, and
// a clear error for every way a file can disagree.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>

#include "gpurnn/io/rnn_file.h"
#include "test_support.h"

namespace gpurnn::testing {
namespace {

std::string temp_path(const std::string& name) {
  static const ScratchDir dir;
  return dir.file(name);
}

RNNDescriptor desc(CellKind cell, int layers, bool bi, bool bias, std::int64_t proj) {
  RNNDescriptor d;
  d.cell = cell;
  d.input_size = 5;
  d.hidden_size = 6;
  d.num_layers = layers;
  d.bidirectional = bi;
  d.bias = bias;
  d.proj_size = proj;
  return d;
}

// A file holding `weights` under `prefix`, with `edit` applied to its tensor list first.
std::string write_edited(const std::string& name, const RNNWeights& weights, const std::string& prefix,
                         const std::function<void(std::vector<io::NamedTensor>&)>& edit,
                         const std::map<std::string, std::string>& metadata = {{"cell", "lstm"}}) {
  std::vector<io::NamedTensor> tensors;
  for (const ParameterInfo& p : weights.parameters()) tensors.push_back({prefix + p.name, weights.get(p.name)});
  edit(tensors);
  const std::string path = temp_path(name);
  io::write_safetensors(path, tensors, metadata);
  return path;
}

void expect_io_error(const std::function<void()>& fn, std::initializer_list<std::string> parts) {
  expect_error(fn, ErrorCode::io_error, parts);
}

TEST(RnnFile, SaveLoadRoundTripEveryCell) {
  for (const RNNDescriptor& d :
       {desc(CellKind::rnn_tanh, 1, false, true, 0), desc(CellKind::rnn_relu, 2, true, true, 0),
        desc(CellKind::rnn_sigmoid, 2, false, false, 0), desc(CellKind::lstm, 2, true, true, 3),
        desc(CellKind::gru, 3, true, false, 0)}) {
    for (const std::string prefix : {"", "encoder.rnn."}) {
      SCOPED_TRACE(to_string(d) + " prefix '" + prefix + "'");
      RNNWeights w(d, DType::f32);
      w.init_uniform(4);
      const std::string path = temp_path("roundtrip.safetensors");
      io::save_rnn(path, w, prefix);
      io::RNNLoadOptions options;
      options.prefix = prefix;
      const RNNWeights f32 = io::load_rnn(path, options);
      EXPECT_EQ(f32.descriptor(), d);
      EXPECT_EQ(to_vector(f32.flat()), to_vector(w.flat()));
      options.dtype = DType::f64;
      const RNNWeights f64 = io::load_rnn(path, options);
      EXPECT_EQ(f64.dtype(), DType::f64);
      EXPECT_EQ(to_vector(f64.flat()), to_vector(w.flat()));
      std::remove(path.c_str());
    }
  }
}

// Whether two tensors hold the same dtype, shape and bytes.
::testing::AssertionResult same_bits(ConstTensorView a, ConstTensorView b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) {
    return ::testing::AssertionFailure() << to_string(a.dtype()) << " " << to_string(a.shape()) << " vs "
                                         << to_string(b.dtype()) << " " << to_string(b.shape());
  }
  if (a.bytes() != 0 && std::memcmp(a.data(), b.data(), a.bytes()) != 0) {
    return ::testing::AssertionFailure() << "bytes differ";
  }
  return ::testing::AssertionSuccess();
}

// Issue 30: half weights are saved as BF16/F16 and load back bit for bit when loaded in their own
// dtype (never through f32), exactly widened when loaded as f32 or f64, and converted between the
// two half types through the exact f32 value.
TEST(RnnFile, HalfWeightsSaveAsHalfAndLoadBitForBit) {
  const RNNDescriptor d = desc(CellKind::lstm, 2, true, true, 3);
  for (const auto& [dtype, stored] : {std::pair<DType, const char*>{DType::bf16, "BF16"}, {DType::f16, "F16"}}) {
    SCOPED_TRACE(to_string(dtype));
    RNNWeights w(d, dtype);
    w.init_uniform(11);
    const std::string path = temp_path(std::string("half_") + to_string(dtype) + ".safetensors");
    io::save_rnn(path, w, "rnn.");
    const io::SafetensorsReader file(path);
    ASSERT_EQ(file.records().size(), w.parameters().size());
    for (const io::SafetensorsRecord& r : file.records()) EXPECT_EQ(r.dtype, stored) << r.name;
    EXPECT_TRUE(same_bits(file.read("rnn.weight_hr_l1_reverse"), w.get("weight_hr_l1_reverse")));

    io::RNNLoadOptions options;
    options.prefix = "rnn.";
    options.dtype = dtype;
    const RNNWeights same = io::load_rnn(path, options);
    EXPECT_EQ(same.descriptor(), d);
    EXPECT_TRUE(same_bits(same.flat(), w.flat()));
    options.dtype = DType::f32;
    EXPECT_TRUE(same_bits(io::load_rnn(path, options).flat(), w.flat().to(DType::f32)));
    options.dtype = DType::f64;
    EXPECT_TRUE(same_bits(io::load_rnn(path, options).flat(), w.flat().to(DType::f64)));
    const DType other = dtype == DType::bf16 ? DType::f16 : DType::bf16;
    options.dtype = other;
    EXPECT_TRUE(same_bits(io::load_rnn(path, options).flat(), w.flat().to(DType::f32).to(other)));
    std::remove(path.c_str());
  }
}

// A BF16 file of hand-picked patterns (a subnormal, the largest finite, -0, a NaN with a payload):
// loaded as bf16 it is the file's bits, loaded as f32 each value exactly (a float's top half).
TEST(RnnFile, Bf16FileLoadsAsBf16AndAsF32) {
  const RNNDescriptor d = desc(CellKind::rnn_tanh, 1, false, false, 0);
  RNNWeights w(d, DType::bf16);
  auto* bits = static_cast<std::uint16_t*>(w.flat().data());
  const std::uint16_t picked[] = {0x3F80, 0xBF81, 0x0001, 0x7F7F, 0x8000, 0xFF81 /* NaN */, 0x4049};
  for (std::int64_t k = 0; k < w.numel(); ++k) bits[k] = picked[k % 7] ^ static_cast<std::uint16_t>((k / 7) << 1);
  const std::string path = write_edited("bf16.safetensors", w, "", [](auto&) {}, {{"cell", "rnn_tanh"}});
  io::RNNLoadOptions options;
  options.dtype = DType::bf16;
  const RNNWeights as_bf16 = io::load_rnn(path, options);
  ASSERT_EQ(as_bf16.dtype(), DType::bf16);
  EXPECT_TRUE(same_bits(as_bf16.flat(), w.flat()));
  const RNNWeights as_f32 = io::load_rnn(path);  // the default dtype
  ASSERT_EQ(as_f32.dtype(), DType::f32);
  for (std::int64_t k = 0; k < w.numel(); ++k) {
    const std::uint32_t wide = static_cast<std::uint32_t>(bits[k]) << 16;  // bf16 is a float's top half
    std::uint32_t got;
    std::memcpy(&got, as_f32.flat().data_as<float>() + k, sizeof got);
    if ((bits[k] & 0x7FFF) > 0x7F80) {
      EXPECT_TRUE(std::isnan(as_f32.flat().data_as<float>()[k])) << k;
    } else {
      EXPECT_EQ(got, wide) << k;
    }
  }
}

// An f32 file loaded as bf16 or f16 rounds every weight to nearest, ties to even.
TEST(RnnFile, F32FileLoadedAsHalfRoundsToNearestEven) {
  RNNWeights w(desc(CellKind::gru, 1, false, true, 0), DType::f32);
  w.init_uniform(5);
  float* v = w.flat().data_as<float>();
  v[0] = 1.0f + 0x1p-8f;       // bf16 tie -> 1; f16 exact
  v[1] = 1.0f + 3 * 0x1p-8f;   // bf16 tie -> 1 + 2^-6
  v[2] = 1.0f + 3 * 0x1p-11f;  // f16 tie -> 1 + 2^-9; bf16 -> 1
  v[3] = 70000.0f;             // f16: inf
  const std::string path = temp_path("f32_to_half.safetensors");
  io::save_rnn(path, w);
  io::RNNLoadOptions options;
  options.dtype = DType::bf16;
  const RNNWeights bf = io::load_rnn(path, options);
  options.dtype = DType::f16;
  const RNNWeights h = io::load_rnn(path, options);
  const auto* bf_bits = static_cast<const std::uint16_t*>(bf.flat().data());
  const auto* h_bits = static_cast<const std::uint16_t*>(h.flat().data());
  EXPECT_EQ(bf_bits[0], 0x3F80);
  EXPECT_EQ(bf_bits[1], 0x3F82);
  EXPECT_EQ(bf_bits[2], 0x3F80);
  EXPECT_EQ(h_bits[0], 0x3C04);
  EXPECT_EQ(h_bits[2], 0x3C02);
  EXPECT_EQ(h_bits[3], 0x7C00);
  for (std::int64_t k = 0; k < w.numel(); ++k) {
    ASSERT_EQ(bf_bits[k], bfloat16_bits_from(v[k])) << k;
    ASSERT_EQ(h_bits[k], float16_bits_from(v[k])) << k;
  }
  std::remove(path.c_str());
}

TEST(RnnFile, IntegerLoadDtypeIsRefused) {
  RNNWeights w(desc(CellKind::gru, 1, false, true, 0), DType::f32);
  const std::string path = temp_path("int_dtype.safetensors");
  io::save_rnn(path, w);
  io::RNNLoadOptions options;
  options.dtype = DType::i32;
  expect_error([&] { io::load_rnn(path, options); }, ErrorCode::invalid_argument, {"options.dtype", "i32"});
}

TEST(RnnFile, CellFromMetadataOptionOrDefault) {
  RNNWeights w(desc(CellKind::rnn_relu, 1, false, true, 0), DType::f32);
  const std::string no_meta = write_edited("nometa", w, "", [](auto&) {}, {});
  EXPECT_EQ(io::load_rnn(no_meta).descriptor().cell, CellKind::rnn_tanh);  // one gate: tanh by default
  const std::string relu = write_edited("relu", w, "", [](auto&) {}, {{"cell", "rnn_relu"}});
  EXPECT_EQ(io::load_rnn(relu).descriptor().cell, CellKind::rnn_relu);
  io::RNNLoadOptions sigmoid;
  sigmoid.cell = CellKind::rnn_sigmoid;
  EXPECT_EQ(io::load_rnn(relu, sigmoid).descriptor().cell, CellKind::rnn_sigmoid);
  io::RNNLoadOptions lstm;
  lstm.cell = CellKind::lstm;
  expect_io_error([&] { io::load_rnn(relu, lstm); }, {"lstm", "4 gates", "weight_hh_l0"});
  const std::string bad = write_edited("badmeta", w, "", [](auto&) {}, {{"cell", "transformer"}});
  expect_io_error([&] { io::load_rnn(bad); }, {"metadata 'cell'", "transformer"});
}

// Issue 22: an nn.RNN(nonlinearity='relu') saved without metadata ran as tanh, silently. The
// guess is now announced (once per load), and only when it is one.
TEST(RnnFile, AGuessedCellKindIsWarnedAbout) {
  std::vector<std::string> warnings;
  io::RNNLoadOptions options;
  options.warn = [&](const std::string& w) { warnings.push_back(w); };
  RNNWeights relu(desc(CellKind::rnn_relu, 2, true, true, 0), DType::f32);
  const std::string no_meta = write_edited("guessed", relu, "", [](auto&) {}, {});
  EXPECT_EQ(io::load_rnn(no_meta, options).descriptor().cell, CellKind::rnn_tanh);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("guessed"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("rnn_tanh"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("rnn_relu"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("run as rnn_tanh; state rnn_relu or rnn_sigmoid if"), std::string::npos) << warnings[0];
  warnings.clear();
  options.cell = CellKind::rnn_relu;  // stated by the caller: no guess
  EXPECT_EQ(io::load_rnn(no_meta, options).descriptor().cell, CellKind::rnn_relu);
  options.cell.reset();
  const std::string stated = write_edited("stated", relu, "", [](auto&) {}, {{"cell", "rnn_relu"}});
  io::load_rnn(stated, options);
  for (CellKind shaped : {CellKind::lstm, CellKind::gru}) {  // the gate count says it all
    RNNWeights w(desc(shaped, 1, false, true, 0), DType::f32);
    io::load_rnn(write_edited("shaped", w, "", [](auto&) {}, {}), options);
  }
  EXPECT_TRUE(warnings.empty()) << warnings[0];
}

TEST(RnnFile, MissingExtraAndMisshapenTensorsAreNamed) {
  RNNWeights w(desc(CellKind::lstm, 2, true, true, 0), DType::f32);
  const auto drop = [](const std::string& name) {
    return [name](std::vector<io::NamedTensor>& t) {
      t.erase(std::remove_if(t.begin(), t.end(), [&](const io::NamedTensor& n) { return n.name == name; }),
              t.end());
    };
  };
  expect_io_error([&] { io::load_rnn(write_edited("missing", w, "", drop("bias_hh_l1_reverse"))); },
                  {"'bias_hh_l1_reverse'", "missing"});
  expect_io_error([&] { io::load_rnn(write_edited("missing0", w, "", drop("weight_ih_l0"))); },
                  {"'weight_ih_l0'", "missing"});

  const Tensor extra = Tensor::zeros({3}, DType::f32);
  expect_io_error([&] {
    io::load_rnn(write_edited("extra", w, "", [&](auto& t) { t.push_back({"weight_ih_l2", extra.view()}); }));
  }, {"'weight_ih_l2'"});
  // Issue 34: a stray layer past a gap was reported as "'weight_ih_l2' is missing".
  expect_io_error([&] {
    io::load_rnn(write_edited("stray", w, "", [&](auto& t) { t.push_back({"weight_ih_l5", extra.view()}); }));
  }, {"'weight_ih_l5' is unexpected", "no tensors of layer 2"});
  // The RNN's parameters are at the top here, so no module prefix is suggested (issue 32 item 4:
  // the hint named the first foreign tensor's module).
  try {
    io::load_rnn(write_edited("alien", w, "", [&](auto& t) { t.push_back({"decoder.weight", extra.view()}); }));
    ADD_FAILURE() << "a foreign tensor was accepted";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("'decoder.weight' is not an RNN parameter"), std::string::npos) << message;
    EXPECT_EQ(message.find("prefix 'decoder.'"), std::string::npos) << message;
  }

  // Layer 1 built for another input size: its weight_ih disagrees with layer 0's output.
  const Tensor wrong = Tensor::zeros({24, 7}, DType::f32);
  expect_io_error([&] {
    io::load_rnn(write_edited("layers", w, "", [&](auto& t) {
      for (auto& n : t) if (n.name == "weight_ih_l1") n.tensor = wrong.view();
    }));
  }, {"'weight_ih_l1'", "[24, 7]", "expected [24, 12]"});

  const Tensor ints = Tensor::zeros({24, 6}, DType::i32);
  expect_io_error([&] {
    io::load_rnn(write_edited("ints", w, "", [&](auto& t) {
      for (auto& n : t) if (n.name == "weight_hh_l0_reverse") n.tensor = ints.view();
    }));
  }, {"'weight_hh_l0_reverse'", "I32"});
}

TEST(RnnFile, PrefixSelectsTheModule) {
  RNNWeights w(desc(CellKind::gru, 1, false, true, 0), DType::f32);
  w.init_uniform(1);
  const Tensor other = Tensor::zeros({2, 2}, DType::f32);
  const std::string path = write_edited("prefixed", w, "model.rnn.", [&](auto& t) {
    t.push_back({"model.embedding.weight", other.view()});
  }, {{"cell", "gru"}});
  io::RNNLoadOptions options;
  options.prefix = "model.rnn.";
  EXPECT_EQ(to_vector(io::load_rnn(path, options).flat()), to_vector(w.flat()));
  // Issue 32 item 4: the hint names the RNN's module ('model.rnn.'), not the first tensor's.
  expect_io_error([&] { io::load_rnn(path); }, {"not an RNN parameter", "under prefix 'model.rnn.': pass it"});
  options.prefix = "encoder.";
  expect_io_error([&] { io::load_rnn(path, options); },
                  {"no RNN parameters under prefix 'encoder.'", "under prefix 'model.rnn.': pass it"});
}

// Issue 32 item 4, as a new user met it: a speech model's file whose first tensors are
// convolutions and whose decoder is an nn.LSTMCell; the hint was 'stft_conv.'.
TEST(RnnFile, PrefixHintNamesTheModuleHoldingTheRnn) {
  RNNWeights w(desc(CellKind::lstm, 1, false, true, 0), DType::f32);
  w.init_uniform(2);
  const Tensor conv = Tensor::zeros({4, 1, 3}, DType::f32);
  const std::string path = write_edited("speech", w, "decoder.lstm_cell.", [&](auto& t) {
    for (auto& n : t) n.name = n.name.substr(0, n.name.rfind("_l0"));  // a cell's names
    t.insert(t.begin(), {"stft_conv.weight", conv.view()});
    t.insert(t.begin() + 1, {"conv1.weight", conv.view()});
  });
  expect_io_error([&] { io::load_rnn(path); },
                  {"'stft_conv.weight' is not an RNN parameter", "under prefix 'decoder.lstm_cell.': pass it"});
  io::RNNLoadOptions options;
  options.prefix = "decoder.lstm_cell.";
  EXPECT_EQ(to_vector(io::load_rnn(path, options).flat()), to_vector(w.flat()));
  // Two RNNs: both prefixes are named.
  const std::string two = write_edited("two_rnns", w, "encoder.rnn.", [&](auto& t) {
    const std::size_t n = t.size();
    for (std::size_t k = 0; k < n; ++k) t.push_back({"decoder.rnn." + t[k].name.substr(12), t[k].tensor});
    t.insert(t.begin(), {"embedding.weight", conv.view()});
  });
  expect_io_error([&] { io::load_rnn(two); }, {"under the prefixes 'encoder.rnn.', 'decoder.rnn.': pass one"});
}

// Issue 32 item 3: torch.nn.LSTMCell / GRUCell / RNNCell state dicts (weight_ih, weight_hh,
// bias_ih, bias_hh) load as a one-layer RNN, bit for bit the weights of the layer names; a
// file mixing both namings is refused.
TEST(RnnFile, CellModuleStateDictsLoadAsOneLayer) {
  for (const CellKind cell : {CellKind::lstm, CellKind::gru, CellKind::rnn_tanh}) {
    RNNWeights w(desc(cell, 1, false, true, 0), DType::f32);
    w.init_uniform(3);
    const std::string path = write_edited(std::string("cell_") + to_string(cell), w, "", [&](auto& t) {
      for (auto& n : t) n.name = n.name.substr(0, n.name.rfind("_l0"));
    }, {{"cell", to_string(cell)}});
    const RNNWeights loaded = io::load_rnn(path);
    EXPECT_EQ(loaded.descriptor().num_layers, 1);
    EXPECT_FALSE(loaded.descriptor().bidirectional);
    EXPECT_EQ(loaded.descriptor().cell, cell);
    EXPECT_EQ(to_vector(loaded.flat()), to_vector(w.flat())) << to_string(cell);
  }
  RNNWeights w(desc(CellKind::lstm, 1, false, true, 0), DType::f32);
  w.init_uniform(4);
  const std::string mixed = write_edited("mixed_names", w, "", [&](auto& t) {
    for (auto& n : t) {
      if (n.name == "weight_hh_l0") n.name = "weight_hh";
    }
  });
  expect_io_error([&] { io::load_rnn(mixed); }, {"mixes a cell module's names"});
  // A cell without biases (bias=False) loads too.
  RNNWeights nb(desc(CellKind::gru, 1, false, false, 0), DType::f32);
  nb.init_uniform(5);
  const std::string no_bias = write_edited("cell_no_bias", nb, "", [&](auto& t) {
    for (auto& n : t) n.name = n.name.substr(0, n.name.rfind("_l0"));
  }, {{"cell", "gru"}});
  EXPECT_FALSE(io::load_rnn(no_bias).descriptor().bias);
}

// Issue 32 item 3, the other way: save_rnn with cell_names writes a cell module's names
// (weight_ih, ..., under the prefix, no "_l0"), which load back bit for bit; an RNN that is not
// one layer, one direction and unprojected is refused naming the option.
TEST(RnnFile, SaveWithCellNamesRoundTrips) {
  for (const CellKind cell : {CellKind::lstm, CellKind::gru, CellKind::rnn_relu}) {
    for (const bool bias : {true, false}) {
      for (const std::string prefix : {"", "decoder.cell."}) {
        SCOPED_TRACE(std::string(to_string(cell)) + (bias ? "" : " no bias") + " prefix '" + prefix + "'");
        RNNWeights w(desc(cell, 1, false, bias, 0), DType::f32);
        w.init_uniform(6);
        const std::string path = temp_path("cell_names.safetensors");
        io::save_rnn(path, w, io::RNNSaveOptions{prefix, /*cell_names=*/true});
        std::vector<std::string> names;
        const io::SafetensorsReader file(path);
        for (const auto& r : file.records()) names.push_back(r.name);
        std::vector<std::string> expected = {prefix + "weight_ih", prefix + "weight_hh"};
        if (bias) {
          expected.push_back(prefix + "bias_ih");
          expected.push_back(prefix + "bias_hh");
        }
        std::sort(names.begin(), names.end());
        std::sort(expected.begin(), expected.end());
        EXPECT_EQ(names, expected);
        io::RNNLoadOptions options;
        options.prefix = prefix;
        const RNNWeights loaded = io::load_rnn(path, options);
        EXPECT_EQ(loaded.descriptor(), w.descriptor());
        ASSERT_EQ(loaded.flat().bytes(), w.flat().bytes());
        EXPECT_EQ(std::memcmp(loaded.flat().data(), w.flat().data(), w.flat().bytes()), 0);
      }
    }
  }
  // Half weights stay half under cell names too.
  RNNWeights h(desc(CellKind::lstm, 1, false, true, 0), DType::bf16);
  h.init_uniform(7);
  const std::string half = temp_path("cell_names_bf16.safetensors");
  io::save_rnn(half, h, {"", true});
  io::RNNLoadOptions bf16;
  bf16.dtype = DType::bf16;
  const RNNWeights loaded = io::load_rnn(half, bf16);
  EXPECT_EQ(std::memcmp(loaded.flat().data(), h.flat().data(), h.flat().bytes()), 0);
  // Not a cell module's shape: refused, naming the option and the reason.
  const struct {
    RNNDescriptor d;
    const char* why;
  } refused[] = {{desc(CellKind::lstm, 2, false, true, 0), "has 2 layers"},
                 {desc(CellKind::gru, 1, true, true, 0), "is bidirectional"},
                 {desc(CellKind::lstm, 1, false, true, 3), "has a projection"}};
  for (const auto& r : refused) {
    RNNWeights w(r.d, DType::f32);
    expect_error([&] { io::save_rnn(temp_path("refused.safetensors"), w, {"", true}); },
                 ErrorCode::invalid_argument, {"cell_names", "one layer, one direction and no projection", r.why});
    io::save_rnn(temp_path("layer_names.safetensors"), w, "rnn.");  // the layer names still work
  }
}

TEST(RnnFile, UnreadableFileIsAnIoError) {
  expect_io_error([] { io::load_rnn("/nonexistent/model.safetensors"); }, {"/nonexistent/model.safetensors"});
}

}  // namespace
}  // namespace gpurnn::testing
