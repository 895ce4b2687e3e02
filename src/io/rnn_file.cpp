// RNN weights in safetensors files with PyTorch's state_dict names (see gpurnn/io/rnn_file.h).

#include "gpurnn/io/rnn_file.h"

#include <algorithm>
#include <cstring>
#include <iostream>
#include <map>
#include <regex>

#include "core/quoted.h"

namespace gpurnn::io {
namespace {

struct ParsedName {
  ParamKind kind;
  int layer;
  int direction;
  bool cell_name;  // torch.nn.LSTMCell / GRUCell / RNNCell: "weight_ih", no layer suffix
};

// "weight_hh_l1_reverse" -> {weight_hh, 1, 1}; a cell's "weight_hh" -> {weight_hh, 0, 0, cell};
// nullopt for anything else.
std::optional<ParsedName> parse_parameter_name(const std::string& name) {
  static const std::regex pattern(R"(^(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)(_l(\d{1,4})(_reverse)?)?$)");
  std::smatch m;
  if (!std::regex_match(name, m, pattern)) return std::nullopt;
  static const std::map<std::string, ParamKind> kinds = {
      {"weight_ih", ParamKind::weight_ih}, {"weight_hh", ParamKind::weight_hh},
      {"bias_ih", ParamKind::bias_ih},     {"bias_hh", ParamKind::bias_hh},
      {"weight_hr", ParamKind::weight_hr}};
  const ParamKind kind = kinds.at(m[1].str());
  if (!m[2].matched) {
    if (kind == ParamKind::weight_hr) return std::nullopt;  // no cell module projects
    return ParsedName{kind, 0, 0, true};
  }
  return ParsedName{kind, std::stoi(m[3].str()), m[4].matched ? 1 : 0, false};
}

// The name a layout parameter ("weight_ih_l0") has in a file of cell names ("weight_ih").
std::string stored_name(const std::string& layout_name, bool cell_names) {
  return cell_names ? layout_name.substr(0, layout_name.rfind("_l0")) : layout_name;
}

// Where the RNN parameters of a multi-module file are: the module prefixes (all but the last
// name component) of the tensors whose last component is an RNN parameter's name, as "; pass its
// prefix 'rnn.'" (or "one of the prefixes ..."), or "" when no tensor has such a name.
std::string prefix_hint(const SafetensorsReader& file) {
  std::vector<std::string> prefixes;
  for (const SafetensorsRecord& r : file.records()) {
    const std::size_t dot = r.name.rfind('.');
    if (dot == std::string::npos || !parse_parameter_name(r.name.substr(dot + 1))) continue;
    const std::string prefix = r.name.substr(0, dot + 1);
    if (std::find(prefixes.begin(), prefixes.end(), prefix) == prefixes.end()) prefixes.push_back(prefix);
  }
  if (prefixes.empty()) return "";
  if (prefixes.size() == 1) return "; its RNN's parameters are under prefix " + gpurnn::detail::quoted(prefixes[0]) + ": pass it";
  std::string listed;
  for (std::size_t k = 0; k < prefixes.size() && k < 8; ++k) listed += (k ? ", " : "") + gpurnn::detail::quoted(prefixes[k]);
  return "; it holds RNN parameters under the prefixes " + listed + (prefixes.size() > 8 ? " and more" : "") + ": pass one";
}

[[noreturn]] void fail(const SafetensorsReader& file, const std::string& what) {
  throw Error(ErrorCode::io_error, file.origin() + ": " + what);
}

const SafetensorsRecord& require(const SafetensorsReader& file, const std::string& prefix,
                                 const std::string& name) {
  if (!file.contains(prefix + name)) fail(file, "tensor " + gpurnn::detail::quoted(prefix + name) + " is missing");
  return file.record(prefix + name);
}

std::int64_t dim(const SafetensorsReader& file, const SafetensorsRecord& r, int rank, int i) {
  if (r.shape.rank() != rank) {
    fail(file, "tensor " + gpurnn::detail::quoted(r.name) + " has shape " + to_string(r.shape) + ", expected rank " +
                   std::to_string(rank));
  }
  return r.shape[i];
}

// The cell kind from the gate count, the options and the file's metadata.
CellKind resolve_cell(const SafetensorsReader& file, const RNNLoadOptions& options, int gates,
                      const std::string& w_hh_name) {
  std::optional<CellKind> stated = options.cell;
  const auto meta = file.metadata().find("cell");
  if (!stated && meta != file.metadata().end()) {
    try {
      stated = parse_cell_kind(meta->second);
    } catch (const Error&) {
      fail(file, "metadata 'cell' is " + gpurnn::detail::quoted(meta->second) +
                     ", expected one of " + cell_kind_names());
    }
  }
  // By shape: the first cell kind with that many gates (rnn_tanh for one).
  CellKind by_shape = CellKind::rnn_tanh;
  for (CellKind c : detail::kCellKinds) {
    if (gates_per_cell(c) == gates) {
      by_shape = c;
      break;
    }
  }
  if (!stated && gates == 1) {
    // The other one-gate cells, "rnn_relu or rnn_sigmoid", from the cell table.
    std::vector<CellKind> others;
    for (CellKind c : detail::kCellKinds) {
      if (gates_per_cell(c) == 1 && c != by_shape) others.push_back(c);
    }
    const std::string warning = "'" + file.origin() +
                                "' does not state its cell kind (no metadata 'cell'): its one-gate RNN is run as " +
                                to_string(by_shape) + "; state " + cell_kind_names(others, " or ") + " if it is one (gpurnn run --cell, "
                                "RNNLoadOptions::cell)";
    if (options.warn) {
      options.warn(warning);
    } else {
      std::cerr << "gpurnn: warning: " << warning << "\n";
    }
  }
  if (!stated) return by_shape;
  if (gates_per_cell(*stated) != gates) {
    fail(file, std::string("cell is stated as ") + to_string(*stated) + " (" +
                   std::to_string(gates_per_cell(*stated)) + " gates), but tensor " + gpurnn::detail::quoted(w_hh_name) +
                   " has " + std::to_string(gates) + " gates' rows");
  }
  return *stated;
}

}  // namespace

namespace {

// The RNN a file holds under options.prefix, and whether it is named as a cell module's.
struct InferredRnn {
  RNNDescriptor descriptor;
  bool cell_names = false;
};

InferredRnn infer_rnn(const SafetensorsReader& file, const RNNLoadOptions& options) {
  const std::string& prefix = options.prefix;
  int layers = 0;
  bool reverse = false, bias = false, projection = false, cell_names = false;
  std::vector<std::string> ours;
  for (const SafetensorsRecord& r : file.records()) {
    if (r.name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string bare = r.name.substr(prefix.size());
    const std::optional<ParsedName> p = parse_parameter_name(bare);
    if (!p) {
      // With a prefix, other modules' tensors may share the file; without one it is an RNN's own.
      if (!prefix.empty() && bare.find('.') != std::string::npos) continue;
      fail(file, "tensor " + gpurnn::detail::quoted(r.name) + " is not an RNN parameter (expected names like " + prefix +
                     "weight_ih_l0, " + prefix + "bias_hh_l1_reverse, or a cell module's " + prefix + "weight_ih)" +
                     (prefix.empty() ? prefix_hint(file) : ""));
    }
    if (!ours.empty() && p->cell_name != cell_names) {
      fail(file, "tensor " + gpurnn::detail::quoted(r.name) + " mixes a cell module's names (weight_ih) with an RNN's "
                     "(weight_ih_l0) under prefix " + gpurnn::detail::quoted(prefix));
    }
    cell_names = p->cell_name;
    ours.push_back(r.name);
    layers = std::max(layers, p->layer + 1);
    reverse = reverse || p->direction == 1;
    bias = bias || p->kind == ParamKind::bias_ih || p->kind == ParamKind::bias_hh;
    projection = projection || p->kind == ParamKind::weight_hr;
  }
  if (ours.empty()) {
    std::string some;
    for (std::size_t k = 0; k < std::min<std::size_t>(3, file.records().size()); ++k) {
      some += (k ? ", " : "") + gpurnn::detail::quoted(file.records()[k].name);
    }
    const std::string hint = prefix_hint(file);
    fail(file, "has no RNN parameters under prefix " + gpurnn::detail::quoted(prefix) + " (it holds: " +
                   (some.empty() ? std::string("nothing") : some) + ")" +
                   (hint.empty() ? "; pass the module prefix, e.g. 'rnn.'" : hint));
  }

  // Layers are numbered from 0 without gaps: a tensor past a layer that has none is a stray one
  // (a weight_ih_l5 in a one-layer file), named rather than reported as layer 1 missing.
  std::vector<bool> has_layer(static_cast<std::size_t>(layers), false);
  for (const std::string& name : ours) has_layer[parse_parameter_name(name.substr(prefix.size()))->layer] = true;
  const auto gap = std::find(has_layer.begin(), has_layer.end(), false);
  if (gap != has_layer.end()) {
    const int missing = static_cast<int>(gap - has_layer.begin());
    for (const std::string& name : ours) {
      if (parse_parameter_name(name.substr(prefix.size()))->layer > missing) {
        fail(file, "tensor '" + name + "' is unexpected: the file has no tensors of layer " + std::to_string(missing) +
                       " (layers are numbered from 0 without gaps)");
      }
    }
  }
  const auto stored = [&](const std::string& layout_name) { return stored_name(layout_name, cell_names); };
  const SafetensorsRecord& w_hh = require(file, prefix, stored("weight_hh_l0"));
  const SafetensorsRecord& w_ih = require(file, prefix, stored("weight_ih_l0"));
  RNNDescriptor d;
  d.num_layers = layers;
  d.bidirectional = reverse;
  d.bias = bias;
  d.input_size = dim(file, w_ih, 2, 1);
  const std::int64_t state = dim(file, w_hh, 2, 1);
  d.hidden_size = state;
  if (projection) {
    const SafetensorsRecord& w_hr = require(file, prefix, stored("weight_hr_l0"));
    d.proj_size = dim(file, w_hr, 2, 0);
    d.hidden_size = dim(file, w_hr, 2, 1);
  }
  const std::int64_t rows = dim(file, w_hh, 2, 0);
  if (d.hidden_size <= 0 || rows % d.hidden_size != 0 || rows / d.hidden_size > 4 ||
      rows / d.hidden_size == 2) {
    fail(file, "tensor " + gpurnn::detail::quoted(w_hh.name) + " has shape " + to_string(w_hh.shape) +
                   ": its rows are not 1, 3 or 4 gates of " + std::to_string(d.hidden_size) + " units");
  }
  d.cell = resolve_cell(file, options, static_cast<int>(rows / d.hidden_size), w_hh.name);
  try {
    d.validate();
  } catch (const Error& e) {
    fail(file, std::string("describes an invalid RNN: ") + e.what());
  }

  // Every expected tensor present with its exact shape, and nothing else.
  const std::vector<ParameterInfo> layout = parameter_layout(d);
  for (const ParameterInfo& p : layout) {
    const SafetensorsRecord& r = require(file, prefix, stored(p.name));
    if (r.shape != p.shape) {
      fail(file, "tensor " + gpurnn::detail::quoted(r.name) + " has shape " + to_string(r.shape) + ", expected " +
                     to_string(p.shape) + " for " + to_string(d));
    }
    if (r.dtype != "F32" && r.dtype != "F64" && r.dtype != "F16" && r.dtype != "BF16") {
      fail(file, "tensor " + gpurnn::detail::quoted(r.name) + " has dtype " + r.dtype + ", expected a floating type");
    }
  }
  for (const std::string& name : ours) {
    const bool expected = std::any_of(layout.begin(), layout.end(), [&](const ParameterInfo& p) {
      return prefix + stored(p.name) == name;
    });
    if (!expected) fail(file, "tensor " + gpurnn::detail::quoted(name) + " does not belong to " + to_string(d));
  }
  return {d, cell_names};
}

}  // namespace

RNNDescriptor infer_rnn_descriptor(const SafetensorsReader& file, const RNNLoadOptions& options) {
  return infer_rnn(file, options).descriptor;
}

RNNWeights load_rnn(const std::string& path, const RNNLoadOptions& options) {
  check_argument(is_floating(options.dtype), "load_rnn", "options.dtype",
                 std::string("must be f32, f64, bf16 or f16, got ") + to_string(options.dtype));
  const SafetensorsReader file(path);
  const InferredRnn rnn = infer_rnn(file, options);
  RNNWeights w(rnn.descriptor, options.dtype);
  for (const ParameterInfo& p : w.parameters()) {
    // A tensor already in options.dtype comes back as its stored bytes: half weights stay half.
    const Tensor t = file.read_as(options.prefix + stored_name(p.name, rnn.cell_names), options.dtype);
    std::memcpy(w.get(p.name).data(), t.data(), t.bytes());
  }
  return w;
}

// Why `d` cannot be written under a cell module's names, or "" when it can.
static std::string why_not_a_cell(const RNNDescriptor& d) {
  if (d.num_layers != 1) return "has " + std::to_string(d.num_layers) + " layers";
  if (d.bidirectional) return "is bidirectional";
  if (d.proj_size != 0) return "has a projection (proj_size " + std::to_string(d.proj_size) + ")";
  return "";
}

void save_rnn(const std::string& path, const RNNWeights& weights, const RNNSaveOptions& options) {
  check_argument(weights.flat().defined(), "save_rnn", "weights", "is empty (default-constructed)");
  check_argument(weights.device().is_cpu(), "save_rnn", "weights",
                 "are on " + to_string(weights.device()) + "; copy them to the CPU first");
  if (options.cell_names) {
    const std::string why = why_not_a_cell(weights.descriptor());
    check_argument(why.empty(), "save_rnn", "options.cell_names",
                   "needs a one-layer, one-direction RNN without projection (a cell module such as "
                   "torch.nn.LSTMCell has one layer, one direction and no projection), but " +
                       to_string(weights.descriptor()) + " " + why);
  }
  std::vector<NamedTensor> tensors;
  for (const ParameterInfo& p : weights.parameters()) {
    // As they are: bf16/f16 weights become BF16/F16 tensors, never widened.
    tensors.push_back({options.prefix + stored_name(p.name, options.cell_names), weights.get(p.name)});
  }
  write_safetensors(path, tensors,
                    {{"format", "pt"}, {"cell", to_string(weights.descriptor().cell)}});
}

}  // namespace gpurnn::io
