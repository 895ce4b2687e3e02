// gpurnn.RNN's parameters: numpy views, state_dict / load_state_dict with PyTorch names,
// safetensors load / save, and pickling.

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "bindings.h"
#include "gpurnn/io/rnn_file.h"

namespace gpurnn::python {
namespace py = pybind11;
namespace {

std::string path_from(py::handle path) {
  return py::str(py::module_::import("os").attr("fspath")(path)).cast<std::string>();
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// Why `d` is not what a cell module (torch.nn.LSTMCell / GRUCell / RNNCell) holds, or "".
std::string why_not_a_cell(const RNNDescriptor& d) {
  if (d.num_layers != 1) return "has " + std::to_string(d.num_layers) + " layers";
  if (d.bidirectional) return "is bidirectional";
  if (d.proj_size != 0) return "has a projection (proj_size " + std::to_string(d.proj_size) + ")";
  return "";
}

constexpr const char* kCellRule =
    "a cell module's names (weight_ih, weight_hh, bias_ih, bias_hh) fit only a one-layer, "
    "one-direction RNN without projection (a cell module such as torch.nn.LSTMCell has one layer, "
    "one direction and no projection)";

// A parameter's name in a state dict: "weight_ih_l0", or a cell module's "weight_ih".
std::string state_name(const std::string& name, bool cell_names) {
  return cell_names ? name.substr(0, name.rfind("_l0")) : name;
}

void check_cell_names(const RNNDescriptor& d, const char* where) {
  const std::string why = why_not_a_cell(d);
  check_argument(why.empty(), where, "cell_names", std::string(kCellRule) + ", but " + to_string(d) + " " + why);
}

py::dict state_dict(py::object self, bool cell_names) {
  RNNWeights& w = self.cast<PyRNN&>().weights();
  if (cell_names) check_cell_names(w.descriptor(), "RNN.state_dict");
  py::dict out;
  for (auto item : parameter_arrays(w, self)) {
    out[py::str(state_name(py::str(item.first).cast<std::string>(), cell_names))] = item.second.attr("copy")();
  }
  return out;
}

void load_state_dict(PyRNN& rnn, py::object state, const std::string& prefix, bool strict) {
  const char* where = "RNN.load_state_dict";
  check_argument(py::hasattr(state, "keys") && py::hasattr(state, "__getitem__"), where, "state",
                 "must be a mapping of parameter names to arrays (a dict)");
  RNNWeights& w = rnn.weights();
  const auto contains = [&](const std::string& key) {
    return state.attr("__contains__")(py::str(key)).cast<bool>();
  };
  // A cell module's state dict (weight_ih, no "_l0") for an RNN that is one: named as such.
  const bool cell_names = why_not_a_cell(w.descriptor()).empty() && contains(prefix + "weight_ih") &&
                          !contains(prefix + "weight_ih_l0");
  std::vector<std::pair<std::string, InputArray>> values;
  std::vector<std::string> missing, unexpected;
  bool cell_named_unexpected = false;
  for (const ParameterInfo& p : w.parameters()) {
    const std::string shown = state_name(p.name, cell_names);  // as the caller named it
    const std::string key = prefix + shown;
    if (!contains(key)) {
      missing.push_back(key);
      continue;
    }
    InputArray in = float_input(state[py::str(key)], where, shown.c_str(), w.dtype(), /*optional=*/false,
                                Layout::copy_if_needed);
    check_argument(in.view.shape() == p.shape, where, shown.c_str(),
                   "has shape " + to_string(in.view.shape()) + ", expected " + to_string(p.shape) +
                       " for " + to_string(w.descriptor()));
    values.emplace_back(p.name, std::move(in));
  }
  for (py::handle key : state.attr("keys")()) {
    const std::string name = py::str(key);
    if (name.compare(0, prefix.size(), prefix) != 0) continue;  // another module's entry
    bool known = false;
    for (const ParameterInfo& p : w.parameters()) known = known || prefix + state_name(p.name, cell_names) == name;
    if (!known) {
      unexpected.push_back(name);
      const std::string bare = name.substr(prefix.size());
      cell_named_unexpected = cell_named_unexpected || bare == "weight_ih" || bare == "weight_hh" ||
                              bare == "bias_ih" || bare == "bias_hh";
    }
  }
  if (strict && (!missing.empty() || !unexpected.empty())) {
    const std::string why = why_not_a_cell(w.descriptor());
    throw Error(ErrorCode::invalid_argument,
                std::string(where) + ": argument 'state' does not match " +
                    to_string(w.descriptor()) + (missing.empty() ? "" : "; missing: " + joined(missing)) +
                    (unexpected.empty() ? "" : "; unexpected: " + joined(unexpected)) +
                    (cell_named_unexpected && !why.empty() ? "; " + std::string(kCellRule) + ", but this RNN " + why
                                                           : ""));
  }
  rnn.run_without_gil([&] {
    for (const auto& [name, in] : values) std::memcpy(w.get(name).data(), in.view.data(), in.view.bytes());
  });
}

std::unique_ptr<PyRNN> load(py::object path, const std::string& prefix, py::object cell,
                            py::object dtype, double dropout) {
  io::RNNLoadOptions options;
  options.prefix = prefix;
  if (!cell.is_none()) options.cell = cell_kind_from(cell, "RNN.load");
  options.dtype = parse_float_dtype(dtype, "RNN.load");
  const std::string file = path_from(path);
  RNNWeights weights;
  {
    py::gil_scoped_release no_gil;
    weights = io::load_rnn(file, options);
  }
  if (dropout != 0.0) {  // the file does not store dropout: rebuild with it
    RNNDescriptor d = weights.descriptor();
    d.dropout = dropout;
    RNNWeights with_dropout(d, weights.dtype());
    std::memcpy(with_dropout.flat().data(), weights.flat().data(), weights.flat().bytes());
    weights = std::move(with_dropout);
  }
  return std::make_unique<PyRNN>(std::move(weights));
}

// Pickle state: (descriptor fields..., dtype name, flat parameters).
py::tuple get_state(py::object self) {
  PyRNN& r = self.cast<PyRNN&>();
  const RNNDescriptor& d = r.descriptor();
  const py::array flat = borrowed_array(r.weights().flat().data(), r.dtype(),
                                        {r.weights().numel()}, self);
  return py::make_tuple(to_string(d.cell), d.input_size, d.hidden_size, d.num_layers,
                        d.bidirectional, d.bias, d.proj_size, d.dropout, numpy_name(r.dtype()),
                        flat.attr("copy")());
}

std::unique_ptr<PyRNN> set_state(const py::tuple& t) {
  check_argument(py::len(t) == 10, "RNN.__setstate__", "state", "is not a pickled gpurnn.RNN");
  RNNDescriptor d;
  d.cell = cell_kind_from(t[0], "RNN.__setstate__");
  d.input_size = t[1].cast<std::int64_t>();
  d.hidden_size = t[2].cast<std::int64_t>();
  d.num_layers = t[3].cast<int>();
  d.bidirectional = t[4].cast<bool>();
  d.bias = t[5].cast<bool>();
  d.proj_size = t[6].cast<std::int64_t>();
  d.dropout = t[7].cast<double>();
  RNNWeights w(d, parse_float_dtype(t[8], "RNN.__setstate__"));
  const InputArray flat = float_input(t[9], "RNN.__setstate__", "flat", w.dtype(), false,
                                      Layout::copy_if_needed);
  check_argument(flat.view.numel() == w.numel(), "RNN.__setstate__", "flat",
                 "has " + std::to_string(flat.view.numel()) + " values, expected " +
                     std::to_string(w.numel()));
  std::memcpy(w.flat().data(), flat.view.data(), w.flat().bytes());
  return std::make_unique<PyRNN>(std::move(w));
}

}  // namespace

void bind_rnn_state(py::class_<PyRNN>& cls) {
  cls.def(
         "parameters",
         [](py::object self) { return parameter_arrays(self.cast<PyRNN&>().weights(), self); },
         "Every parameter by PyTorch name, in state_dict order, as writable numpy VIEWS of the "
         "weights: assigning into them changes the model (they keep the RNN alive).")
      .def(
          "flat_parameters",
          [](py::object self) {
            RNNWeights& w = self.cast<PyRNN&>().weights();
            return borrowed_array(w.flat().data(), w.dtype(), {w.numel()}, self);
          },
          "All parameters in one writable 1-D view, in state_dict order (for optimizers).")
      .def("state_dict", &state_dict, py::kw_only(), py::arg("cell_names") = false,
           "Every parameter by PyTorch name, as COPIES (a snapshot; unlike torch, later changes "
           "to the model do not show in it). torch's load_state_dict accepts it after "
           "torch.from_numpy on each value. cell_names=True names them as a cell module does "
           "(weight_ih, weight_hh, bias_ih, bias_hh: torch.nn.LSTMCell/GRUCell/RNNCell), for a "
           "one-layer, one-direction RNN without projection only (ValueError otherwise).")
      .def("load_state_dict", &load_state_dict, py::arg("state"), py::kw_only(),
           py::arg("prefix") = "", py::arg("strict") = true,
           "Copies parameters from a mapping of PyTorch names (under `prefix`) to arrays: numpy "
           "arrays, torch CPU tensors or anything numpy.asarray accepts, float32 or float64, "
           "any layout. Shapes are checked; with strict=True missing or unexpected names raise. "
           "Nothing is copied unless every value is valid. A cell module's state dict "
           "(torch.nn.LSTMCell/GRUCell/RNNCell: weight_ih, weight_hh, bias_ih, bias_hh, under "
           "`prefix` too) loads into a one-layer, one-direction RNN without projection.")
      .def(
          "save",
          [](PyRNN& self, py::object path, const std::string& prefix, bool cell_names) {
            const std::string file = path_from(path);
            if (cell_names) check_cell_names(self.descriptor(), "RNN.save");
            self.run_without_gil([&] { io::save_rnn(file, self.weights(), {prefix, cell_names}); });
          },
          py::arg("path"), py::arg("prefix") = "", py::kw_only(), py::arg("cell_names") = false,
          "Writes the parameters to a safetensors file under PyTorch names (with `prefix`) and "
          "metadata 'cell'; written to a temporary name and renamed. cell_names=True writes a "
          "cell module's names (weight_ih, ...; one-layer, one-direction RNNs without "
          "projection only).")
      .def_static("load", &load, py::arg("path"), py::arg("prefix") = "",
                  py::arg("cell") = py::none(), py::arg("dtype") = "float32",
                  py::arg("dropout") = 0.0,
                  "Loads a PyTorch state_dict saved with safetensors (as `gpurnn run` does): cell "
                  "kind, layers, sizes, bias, projection and direction come from the tensor "
                  "names and shapes; `cell` (or the file's metadata 'cell') tells rnn_tanh from "
                  "rnn_relu. `prefix` selects a submodule ('rnn.'); dropout is not stored in "
                  "files, so it is given here.")
      .def(py::pickle(&get_state, &set_state));
}

}  // namespace gpurnn::python
