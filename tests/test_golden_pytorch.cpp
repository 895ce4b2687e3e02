// PyTorch golden files: models and reference outputs written by torch itself
// (tests/golden/make_golden.py generate; see tests/golden/README.md). Every
// <name>.model.safetensors of GPURNN_GOLDEN_DIR is loaded with io::load_rnn in f32 and in f64
// and run on the CPU backend (outputs, workspace and reserve poisoned); y, hn, cn and, for the
// *_grad cases, dx, dh0, dc0 and every parameter gradient must match PyTorch's float64 results
// within 1e-5 (f32) / 1e-9 (f64). The loaded descriptor must match the io file's metadata and
// the file name. An empty or missing data directory fails.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "gpurnn/io/rnn_file.h"
#include "gpurnn/io/safetensors.h"
#include "test_support.h"

#ifndef GPURNN_GOLDEN_DIR
#error "GPURNN_GOLDEN_DIR must be defined as the directory of the PyTorch golden files (tests/golden/data)"
#endif

namespace gpurnn::testing {
namespace {

namespace fs = std::filesystem;

const std::string kGoldenDir = GPURNN_GOLDEN_DIR;
const std::string kModelSuffix = ".model.safetensors";
const std::string kIoSuffix = ".io.safetensors";

// Case names: every <name>.model.safetensors in the data directory, sorted.
std::vector<std::string> golden_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(kGoldenDir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file = it->path().filename().string();
    if (file.size() > kModelSuffix.size() &&
        file.compare(file.size() - kModelSuffix.size(), kModelSuffix.size(), kModelSuffix) == 0) {
      names.push_back(file.substr(0, file.size() - kModelSuffix.size()));
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The file name after the cell kind, split at '_': "lstm_L2_bi_ragged" -> {L2, bi, ragged}.
std::set<std::string> name_tokens(const std::string& name, const std::string& cell) {
  std::set<std::string> tokens;
  if (name.rfind(cell + "_", 0) != 0) return tokens;
  std::istringstream rest(name.substr(cell.size() + 1));
  for (std::string token; std::getline(rest, token, '_');) tokens.insert(token);
  return tokens;
}

std::string meta_value(const std::map<std::string, std::string>& meta, const std::string& key) {
  const auto it = meta.find(key);
  if (it == meta.end()) throw std::runtime_error("metadata has no '" + key + "'");
  return it->second;
}

// The descriptor the io file's metadata states (written by make_golden.py from the torch module).
RNNDescriptor stated_descriptor(const std::map<std::string, std::string>& meta) {
  RNNDescriptor d;
  d.cell = parse_cell_kind(meta_value(meta, "cell"));
  d.input_size = std::stoll(meta_value(meta, "input_size"));
  d.hidden_size = std::stoll(meta_value(meta, "hidden_size"));
  d.num_layers = std::stoi(meta_value(meta, "num_layers"));
  d.bidirectional = meta_value(meta, "bidirectional") == "1";
  d.bias = meta_value(meta, "bias") == "1";
  d.proj_size = std::stoll(meta_value(meta, "proj_size"));
  return d;
}

Tensor copy_of(ConstTensorView v) {
  Tensor t = Tensor::empty(v.shape(), v.dtype());
  std::memcpy(t.data(), v.data(), v.bytes());
  return t;
}

void expect_close(const std::string& what, const Tensor& actual, const Tensor& expected,
                  double tolerance) {
  ASSERT_EQ(actual.shape(), expected.shape()) << what;
  EXPECT_LT(relative_error(actual, expected), tolerance)
      << what << ": relative error against PyTorch (" << to_string(actual.dtype()) << ")";
}

void expect_outputs_match(const io::SafetensorsReader& file, const FullRun& r,
                          const RNNDescriptor& d, double tolerance) {
  expect_close("y", r.y, file.read("y"), tolerance);
  expect_close("hn", r.hn, file.read("hn"), tolerance);
  ASSERT_EQ(file.contains("cn"), d.has_cell_state()) << "cn in the io file iff the cell is an LSTM";
  if (d.has_cell_state()) expect_close("cn", r.cn, file.read("cn"), tolerance);
}

struct GoldenCase {
  std::string name;
  DType dtype;
};

void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.name << " " << to_string(c.dtype); }

std::vector<GoldenCase> golden_cases() {
  std::vector<GoldenCase> cases;
  for (const std::string& name : golden_names()) {
    for (DType dt : {DType::f32, DType::f64}) cases.push_back({name, dt});
  }
  return cases;
}

class PyTorchGolden : public ::testing::TestWithParam<GoldenCase> {};

// The directory holds the fixtures this suite exists for; without it every other test vanishes.
TEST_F(PyTorchGolden, DataDirectoryHasFixtures) {
  const std::vector<std::string> names = golden_names();
  ASSERT_FALSE(names.empty()) << "no *" << kModelSuffix << " in " << kGoldenDir
                              << " (run tests/golden/make_golden.py generate)";
  std::set<std::string> seen;  // cell kinds and features covered
  for (const std::string& name : names) {
    EXPECT_TRUE(fs::exists(kGoldenDir + "/" + name + kIoSuffix)) << name << kIoSuffix << " missing";
    for (const char* cell : {"rnn_tanh", "rnn_relu", "lstm", "gru"}) {
      const std::set<std::string> tokens = name_tokens(name, cell);
      if (tokens.empty()) continue;
      seen.insert(cell);
      for (const std::string& t : tokens) {
        seen.insert(t.rfind("proj", 0) == 0 ? "proj" : t);
        if (t == "grad") seen.insert(std::string(cell) + "_grad");
      }
    }
  }
  for (const char* want : {"rnn_tanh", "rnn_relu", "lstm", "gru", "L1", "L2", "bi", "proj", "nobias",
                           "ragged", "h0", "bf", "prefix", "lstm_grad", "gru_grad"}) {
    EXPECT_TRUE(seen.count(want)) << "no golden case covers '" << want << "'";
  }
}

TEST_P(PyTorchGolden, MatchesPyTorch) {
  const GoldenCase& c = GetParam();
  const DType dt = c.dtype;
  const double tolerance = dt == DType::f32 ? 1e-5 : 1e-9;
  const std::string base = kGoldenDir + "/" + c.name;
  const io::SafetensorsReader file(base + kIoSuffix);
  const io::SafetensorsReader model(base + kModelSuffix);
  const auto& meta = file.metadata();

  io::RNNLoadOptions options;
  options.prefix = meta_value(meta, "prefix");
  options.dtype = dt;
  const RNNWeights weights = io::load_rnn(base + kModelSuffix, options);
  const RNNDescriptor& d = weights.descriptor();
  ASSERT_EQ(weights.dtype(), dt);

  // What the metadata, the model file and the file name say about the model.
  const RNNDescriptor stated = stated_descriptor(meta);
  ASSERT_EQ(d, stated) << "loaded " << to_string(d) << ", metadata says " << to_string(stated);
  EXPECT_EQ(meta_value(model.metadata(), "cell"), to_string(d.cell));
  const std::set<std::string> tokens = name_tokens(c.name, to_string(d.cell));
  ASSERT_FALSE(tokens.empty()) << c.name << " does not start with " << to_string(d.cell) << "_";
  EXPECT_TRUE(tokens.count("L" + std::to_string(d.num_layers)));
  EXPECT_EQ(tokens.count("bi") == 1, d.bidirectional);
  EXPECT_EQ(tokens.count("nobias") == 1, !d.bias);
  EXPECT_EQ(tokens.count("proj" + std::to_string(d.proj_size)) == 1, d.proj_size > 0);
  EXPECT_EQ(tokens.count("prefix") == 1, !options.prefix.empty());
  EXPECT_EQ(tokens.count("ragged") == 1, file.contains("lengths"));
  EXPECT_EQ(tokens.count("h0") == 1, file.contains("h0"));
  EXPECT_EQ(tokens.count("bf") == 1, meta_value(meta, "batch_first") == "1");
  EXPECT_EQ(tokens.count("grad") == 1, file.contains("dy"));

  // The loaded values are the file's, parameter by parameter (f32 -> f64 widening is exact).
  EXPECT_EQ(model.records().size(), weights.parameters().size());
  for (const ParameterInfo& p : weights.parameters()) {
    EXPECT_EQ(relative_error(copy_of(weights.get(p.name)), model.read(options.prefix + p.name)), 0.0)
        << p.name;
  }

  const std::unique_ptr<Backend> cpu = make_backend("cpu");
  FullRunInputs in;
  in.batch_first = meta_value(meta, "batch_first") == "1";
  in.x = file.read_as("x", dt);
  if (file.contains("lengths")) in.lengths = file.read_as("lengths", DType::i32);
  if (file.contains("h0")) in.h0 = file.read_as("h0", dt);
  if (file.contains("c0")) in.c0 = file.read_as("c0", dt);
  ASSERT_EQ(file.contains("c0"), d.has_cell_state() && file.contains("h0"));
  {
    SCOPED_TRACE("inference");
    in.mode = ForwardMode::inference;
    expect_outputs_match(file, full_run(*cpu, weights, in), d, tolerance);
  }
  if (!file.contains("dy")) return;

  SCOPED_TRACE("training + backward");
  in.mode = ForwardMode::training;
  in.dy = file.read_as("dy", dt);
  in.dhn = file.read_as("dhn", dt);
  if (d.has_cell_state()) in.dcn = file.read_as("dcn", dt);
  const FullRun r = full_run(*cpu, weights, in);
  expect_outputs_match(file, r, d, tolerance);
  expect_close("dx", r.dx, file.read("grad.x"), tolerance);
  expect_close("dh0", r.dh0, file.read("grad.h0"), tolerance);
  if (d.has_cell_state()) expect_close("dc0", r.dc0, file.read("grad.c0"), tolerance);
  for (const ParameterInfo& p : weights.parameters()) {
    expect_close("d" + p.name, copy_of(r.dweights.get(p.name)), file.read("grad." + p.name), tolerance);
  }
  // Every gradient the file holds was compared: x, h0, c0 and one per parameter.
  const auto file_grads = std::count_if(file.records().begin(), file.records().end(),
                                        [](const io::SafetensorsRecord& rec) {
                                          return rec.name.rfind("grad.", 0) == 0;
                                        });
  EXPECT_EQ(static_cast<std::size_t>(file_grads),
            weights.parameters().size() + (d.has_cell_state() ? 3 : 2));
}

// "lstm_L2_bi_ragged_h0_grad_f32" (a lambda here would shadow the macro's parameter).
struct GoldenCaseName {
  std::string operator()(const ::testing::TestParamInfo<GoldenCase>& param) const {
    return param.param.name + "_" + to_string(param.param.dtype);
  }
};

INSTANTIATE_TEST_SUITE_P(Files, PyTorchGolden, ::testing::ValuesIn(golden_cases()), GoldenCaseName());

}  // namespace
}  // namespace gpurnn::testing
