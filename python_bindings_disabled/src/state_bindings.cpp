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

void load_state_dict(PyRNN& rnn, py::object state, const std::string& prefix, bool strict) {
  const char* where = "RNN.load_state_dict";
  check_argument(py::hasattr(state, "keys") && py::hasattr(state, "__getitem__"), where, "state",
                 "must be a mapping of parameter names to arrays (a dict)");
  RNNWeights& w = rnn.weights();
  std::vector<std::pair<std::string, InputArray>> values;
  std::vector<std::string> missing, unexpected;
  for (const ParameterInfo& p : w.parameters()) {
    const py::str key(prefix + p.name);
    if (!state.attr("__contains__")(key).cast<bool>()) {
      missing.push_back(key);
      continue;
    }
    InputArray in = float_input(state[key], where, p.name.c_str(), w.dtype(), /*optional=*/false,
                                Layout::copy_if_needed);
    check_argument(in.view.shape() == p.shape, where, p.name.c_str(),
                   "has shape " + to_string(in.view.shape()) + ", expected " + to_string(p.shape) +
                       " for " + to_string(w.descriptor()));
    values.emplace_back(p.name, std::move(in));
  }
  for (py::handle key : state.attr("keys")()) {
    const std::string name = py::str(key);
    if (name.compare(0, prefix.size(), prefix) != 0) continue;  // another module's entry
    bool known = false;
    for (const ParameterInfo& p : w.parameters()) known = known || prefix + p.name == name;
    if (!known) unexpected.push_back(name);
  }
  if (strict && (!missing.empty() || !unexpected.empty())) {
    throw Error(ErrorCode::invalid_argument,
                std::string(where) + ": argument 'state' does not match " +
                    to_string(w.descriptor()) + (missing.empty() ? "" : "; missing: " + joined(missing)) +
                    (unexpected.empty() ? "" : "; unexpected: " + joined(unexpected)));
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
      .def(
          "state_dict",
          [](py::object self) {
            py::dict out;
            for (auto item : parameter_arrays(self.cast<PyRNN&>().weights(), self)) {
              out[item.first] = item.second.attr("copy")();
            }
            return out;
          },
          "Every parameter by PyTorch name, as COPIES (a snapshot; unlike torch, later changes "
          "to the model do not show in it). torch's load_state_dict accepts it after "
          "torch.from_numpy on each value.")
      .def("load_state_dict", &load_state_dict, py::arg("state"), py::kw_only(),
           py::arg("prefix") = "", py::arg("strict") = true,
           "Copies parameters from a mapping of PyTorch names (under `prefix`) to arrays: numpy "
           "arrays, torch CPU tensors or anything numpy.asarray accepts, float32 or float64, "
           "any layout. Shapes are checked; with strict=True missing or unexpected names raise. "
           "Nothing is copied unless every value is valid.")
      .def(
          "save",
          [](PyRNN& self, py::object path, const std::string& prefix) {
            const std::string file = path_from(path);
            self.run_without_gil([&] { io::save_rnn(file, self.weights(), prefix); });
          },
          py::arg("path"), py::arg("prefix") = "",
          "Writes the parameters to a safetensors file under PyTorch names (with `prefix`) and "
          "metadata 'cell'; written to a temporary name and renamed.")
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
