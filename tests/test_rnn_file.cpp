// RNN weights through safetensors: save/load round trips for every cell kind, inference of the
// descriptor from names and shapes, and a clear error for every way a file can disagree.

#include <gtest/gtest.h>

#include <cstdio>
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

TEST(RnnFile, UnreadableFileIsAnIoError) {
  expect_io_error([] { io::load_rnn("/nonexistent/model.safetensors"); }, {"/nonexistent/model.safetensors"});
}

}  // namespace
}  // namespace gpurnn::testing
