// gpurnn.CellKind and gpurnn.RNNDescriptor.

#include <pybind11/operators.h>

#include <cctype>

#include "bindings.h"
#include "gpurnn/error.h"

namespace gpurnn::python {
namespace py = pybind11;

CellKind cell_kind_from(py::handle obj, const char* where) {
  if (py::isinstance<CellKind>(obj)) return obj.cast<CellKind>();
  if (!py::isinstance<py::str>(obj)) {
    throw Error(ErrorCode::invalid_argument,
                std::string(where) + ": argument 'cell' is a " +
                    py::str(py::type::of(obj).attr("__name__")).cast<std::string>() +
                    ", expected a gpurnn.CellKind or the name of one: " + cell_kind_names());
  }
  std::string text = obj.cast<std::string>();
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  try {
    return parse_cell_kind(text);
  } catch (const Error& e) {
    throw Error(e.code(), std::string(where) + ": argument 'cell': " + e.what());
  }
}

RNNDescriptor descriptor_from(py::handle cell, std::int64_t input_size, std::int64_t hidden_size,
                              int num_layers, bool bidirectional, bool bias, std::int64_t proj_size,
                              double dropout, const char* where) {
  RNNDescriptor d;
  d.cell = cell_kind_from(cell, where);
  d.input_size = input_size;
  d.hidden_size = hidden_size;
  d.num_layers = num_layers;
  d.bidirectional = bidirectional;
  d.bias = bias;
  d.proj_size = proj_size;
  d.dropout = dropout;
  return d;
}

void bind_descriptor(py::module_& m) {
  py::enum_<CellKind> cell_kind(m, "CellKind", "The recurrent cell: PyTorch's modes plus rnn_sigmoid.");
  for (CellKind cell : detail::kCellKinds) {
    cell_kind.value(to_string(cell), cell, detail::cell_traits(cell).summary);
  }
  cell_kind.def_property_readonly("gates", &gates_per_cell, "Gates per hidden unit: 1, 4 or 3.");

  py::class_<RNNDescriptor>(m, "RNNDescriptor",
                            "What an RNN is: the fields of torch.nn.LSTM/GRU/RNN plus the cell "
                            "kind. Fields are checked by validate() and when an RNN is built.")
      .def(py::init([](py::object cell, std::int64_t input_size, std::int64_t hidden_size,
                       int num_layers, bool bidirectional, bool bias, std::int64_t proj_size,
                       double dropout) {
             RNNDescriptor d = descriptor_from(cell, input_size, hidden_size, num_layers,
                                               bidirectional, bias, proj_size, dropout,
                                               "RNNDescriptor");
             d.validate();
             return d;
           }),
           py::arg("cell") = "lstm", py::kw_only(), py::arg("input_size"), py::arg("hidden_size"),
           py::arg("num_layers") = 1, py::arg("bidirectional") = false, py::arg("bias") = true,
           py::arg("proj_size") = 0, py::arg("dropout") = 0.0,
           "Builds and validates a descriptor; `cell` is a CellKind or its name.")
      .def_property(
          "cell", [](const RNNDescriptor& d) { return d.cell; },
          [](RNNDescriptor& d, py::object c) { d.cell = cell_kind_from(c, "RNNDescriptor"); },
          "The cell kind (a CellKind; a name is accepted on assignment).")
      .def_readwrite("input_size", &RNNDescriptor::input_size, "I: features of x_t.")
      .def_readwrite("hidden_size", &RNNDescriptor::hidden_size, "H: units of the cell.")
      .def_readwrite("num_layers", &RNNDescriptor::num_layers, "L: stacked layers.")
      .def_readwrite("bidirectional", &RNNDescriptor::bidirectional, "D = 2 when True.")
      .def_readwrite("bias", &RNNDescriptor::bias, "Whether b_ih and b_hh exist.")
      .def_readwrite("proj_size", &RNNDescriptor::proj_size, "LSTM projection size (0: none).")
      .def_readwrite("dropout", &RNNDescriptor::dropout,
                     "Dropout probability between layers (training forward only).")
      .def_property_readonly("num_directions", &RNNDescriptor::num_directions, "D: 1 or 2.")
      .def_property_readonly("state_size", &RNNDescriptor::state_size,
                             "H_out: proj_size when projecting, else hidden_size.")
      .def_property_readonly("output_size", &RNNDescriptor::output_size,
                             "Features of y_t: D * H_out.")
      .def_property_readonly("has_cell_state", &RNNDescriptor::has_cell_state,
                             "True for an LSTM (c0/cn exist).")
      .def("validate", &RNNDescriptor::validate,
           "Raises gpurnn.InvalidArgumentError naming the first field out of range.")
      .def(py::self == py::self)
      .def(py::self != py::self)
      .def("__repr__", [](const RNNDescriptor& d) { return "RNNDescriptor(" + to_string(d) + ")"; });
}

}  // namespace gpurnn::python
