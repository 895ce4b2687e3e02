// gpurnn.RNN (construction, properties, forward, backward) and gpurnn.Gradients.

#include "bindings.h"

namespace gpurnn::python {
namespace py = pybind11;
namespace {

constexpr const char* kRNNDoc = R"doc(A vanilla RNN, LSTM or GRU with torch.nn.RNN/LSTM/GRU's semantics and weight layout.

Shapes follow PyTorch: x [T, B, I] ([B, T, I] with batch_first=True, or unbatched [T, I]),
y [T, B, D*H_out], h0/hn [L*D, B, H_out], c0/cn [L*D, B, H] (LSTM), where H_out is proj_size
when projecting and hidden_size otherwise. Weights are PyTorch-initialised (uniform
+-1/sqrt(H)) from `seed`, or loaded with RNN.load / load_state_dict.)doc";

constexpr const char* kForwardDoc = R"doc(Runs the network; returns (y, (hn, cn)) for an LSTM and (y, hn) otherwise.

x: float32/float64 array [T, B, I] ([B, T, I] with batch_first=True) or unbatched [T, I].
lengths: optional integers [B], each in [1, T], any order: packed-sequence semantics (y is
  zero past each length, hn/cn hold each sequence's state after its last step), as with
  pack_padded_sequence(enforce_sorted=False) and pad_packed_sequence(total_length=T).
h0, c0: optional initial states [L*D, B, H_out] and [L*D, B, H] (c0: LSTM only); zeros if None.
device: "auto" or "cpu" (see gpurnn.devices()).
train: True saves what backward() needs and applies inter-layer dropout with a mask drawn
  from dropout_seed; the arrays passed in are referenced, not copied, until backward().

Inputs that are C-contiguous, aligned and in the model's dtype are read in place (no copy);
a float32/float64 array of another dtype is converted (rounded to nearest for a half model);
other dtypes and non-contiguous arrays raise gpurnn.InvalidArgumentError naming the argument.
A float16 model's arrays are numpy float16; a bfloat16 model's are uint16 arrays of bfloat16
bit patterns (numpy has no bfloat16), in and out. Half models compute by libgpurnn's half
rule (f32 products and cell math, h rounded to half each step) and their parameter gradients
are float32. Outputs are new arrays. The GIL is released while computing.)doc";

constexpr const char* kBackwardDoc = R"doc(Gradients of the last forward(..., train=True), which it consumes.

dy: gradient of y (y's shape); dhn, dcn: optional gradients of hn and cn (zeros if None).
Returns a gpurnn.Gradients: dx, dh0, dc0 (None unless LSTM) and `parameters`, a dict of
every parameter's gradient by PyTorch name (views into `flat`). The GIL is released while
computing.)doc";

py::tuple as_torch_result(const ForwardResult& r) {
  if (r.cn.is_none()) return py::make_tuple(r.y, r.hn);
  return py::make_tuple(r.y, py::make_tuple(r.hn, r.cn));
}

ForwardCall forward_call(py::handle x, py::handle lengths, py::handle h0, py::handle c0,
                         bool batch_first, const std::string& device, bool train,
                         std::uint64_t dropout_seed) {
  ForwardCall call;
  call.x = x;
  call.lengths = lengths;
  call.h0 = h0;
  call.c0 = c0;
  call.batch_first = batch_first;
  call.device = device;
  call.train = train;
  call.dropout_seed = dropout_seed;
  return call;
}

ForwardResult run_forward(PyRNN& self, py::handle x, py::handle lengths, py::handle h0,
                          py::handle c0, bool batch_first, const std::string& device, bool train,
                          std::uint64_t dropout_seed) {
  return self.forward(forward_call(x, lengths, h0, c0, batch_first, device, train, dropout_seed));
}

std::unique_ptr<PyRNN> make_rnn(const RNNDescriptor& desc, py::handle dtype, std::uint64_t seed) {
  RNNWeights weights(desc, parse_float_dtype(dtype, "RNN"));
  weights.init_uniform(seed);
  return std::make_unique<PyRNN>(std::move(weights));
}

}  // namespace

void bind_rnn(py::module_& m) {
  // Kept for the module's life: pybind11 stores the pointer of a property's docstring.
  static const std::string cell_doc = "The cell kind's name: " + cell_kind_names(" or ") + ".";
  py::class_<Gradients>(m, "Gradients", "What RNN.backward returns.")
      .def_readonly("dx", &Gradients::dx, "Gradient of x (x's shape).")
      .def_readonly("dh0", &Gradients::dh0, "Gradient of h0 [L*D, B, H_out].")
      .def_readonly("dc0", &Gradients::dc0, "Gradient of c0 [L*D, B, H] (LSTM), else None.")
      .def_readonly("parameters", &Gradients::parameters,
                    "Every parameter's gradient by PyTorch name (views into `flat`).")
      .def_readonly("flat", &Gradients::flat,
                    "All parameter gradients in one array, in state_dict order.")
      .def("__repr__", [](const Gradients& g) {
        return "gpurnn.Gradients(dx " + py::repr(g.dx.attr("shape")).cast<std::string>() + ", " +
               std::to_string(py::len(g.parameters)) + " parameters)";
      });

  py::class_<SavedForward, std::shared_ptr<SavedForward>>(
      m, "_SavedForward",
      "What a training forward of RNN._forward_autograd keeps for RNN._backward_autograd.")
      .def("__repr__", [](const SavedForward& s) {
        return "gpurnn._SavedForward(x " + to_string(s.x.view.shape()) + ")";
      });

  py::class_<PyRNN> cls(m, "RNN", kRNNDoc);
  cls.def(py::init([](py::object cell, std::int64_t input_size, std::int64_t hidden_size,
                      int num_layers, bool bidirectional, bool bias, std::int64_t proj_size,
                      double dropout, py::object dtype, std::uint64_t seed) {
            return make_rnn(descriptor_from(cell, input_size, hidden_size, num_layers,
                                            bidirectional, bias, proj_size, dropout, "RNN"),
                            dtype, seed);
          }),
          py::arg("cell") = "lstm", py::arg("input_size"), py::arg("hidden_size"),
          py::arg("num_layers") = 1, py::arg("bidirectional") = false, py::arg("bias") = true,
          py::arg("proj_size") = 0, py::arg("dropout") = 0.0, py::arg("dtype") = "float32",
          py::arg("seed") = 0,
          "A new RNN; `cell` is a CellKind or its name, `dtype` float32, float64, float16 or "
          "bfloat16 (arrays of uint16 bit patterns).")
      .def_static(
          "from_descriptor",
          [](const RNNDescriptor& d, py::object dtype, std::uint64_t seed) {
            return make_rnn(d, dtype, seed);
          },
          py::arg("descriptor"), py::arg("dtype") = "float32", py::arg("seed") = 0,
          "A new RNN with the fields of an RNNDescriptor.")
      .def_property_readonly(
          "descriptor", [](const PyRNN& r) { return r.descriptor(); }, "A copy of the descriptor.")
      .def_property_readonly(
          "cell", [](const PyRNN& r) { return std::string(to_string(r.descriptor().cell)); },
          cell_doc.c_str())
      .def_property_readonly(
          "input_size", [](const PyRNN& r) { return r.descriptor().input_size; }, "I.")
      .def_property_readonly(
          "hidden_size", [](const PyRNN& r) { return r.descriptor().hidden_size; }, "H.")
      .def_property_readonly(
          "num_layers", [](const PyRNN& r) { return r.descriptor().num_layers; }, "L.")
      .def_property_readonly(
          "bidirectional", [](const PyRNN& r) { return r.descriptor().bidirectional; }, "D == 2.")
      .def_property_readonly(
          "bias", [](const PyRNN& r) { return r.descriptor().bias; }, "b_ih and b_hh exist.")
      .def_property_readonly(
          "proj_size", [](const PyRNN& r) { return r.descriptor().proj_size; },
          "LSTM projection size (0: none).")
      .def_property_readonly(
          "dropout", [](const PyRNN& r) { return r.descriptor().dropout; },
          "Inter-layer dropout probability (training forward only).")
      .def_property_readonly(
          "dtype", [](const PyRNN& r) { return std::string(numpy_name(r.dtype())); },
          "The weights' and outputs' dtype: 'float32', 'float64', 'float16' or 'bfloat16' "
          "(stored as uint16 bit patterns).")
      .def("forward",
           [](PyRNN& self, py::object x, py::object lengths, py::object h0, py::object c0,
              bool batch_first, const std::string& device, bool train, std::uint64_t seed) {
             return as_torch_result(
                 run_forward(self, x, lengths, h0, c0, batch_first, device, train, seed));
           },
           py::arg("x"), py::arg("lengths") = py::none(), py::arg("h0") = py::none(),
           py::arg("c0") = py::none(), py::kw_only(), py::arg("batch_first") = false,
           py::arg("device") = "auto", py::arg("train") = false, py::arg("dropout_seed") = 0,
           kForwardDoc)
      .def("__call__",
           [](PyRNN& self, py::object x, py::object hx, py::object lengths, bool batch_first,
              const std::string& device, bool train, std::uint64_t seed) {
             py::object h0 = py::reinterpret_borrow<py::object>(hx), c0 = py::none();
             if (py::isinstance<py::tuple>(hx) || py::isinstance<py::list>(hx)) {
               const auto pair = py::reinterpret_borrow<py::sequence>(hx);
               check_argument(py::len(pair) == 2, "RNN.__call__", "hx",
                              "is a sequence of " + std::to_string(py::len(pair)) +
                                  " items, expected (h0, c0)");
               h0 = pair[0];
               c0 = pair[1];
             }
             return as_torch_result(
                 run_forward(self, x, lengths, h0, c0, batch_first, device, train, seed));
           },
           py::arg("x"), py::arg("hx") = py::none(), py::kw_only(),
           py::arg("lengths") = py::none(), py::arg("batch_first") = false,
           py::arg("device") = "auto", py::arg("train") = false, py::arg("dropout_seed") = 0,
           "PyTorch's calling convention: rnn(x, hx) with hx = h0, or (h0, c0) for an LSTM; "
           "otherwise as forward().")
      .def("backward",
           [](PyRNN& self, py::object dy, py::object dhn, py::object dcn) {
             return self.backward(dy, dhn, dcn);
           },
           py::arg("dy"), py::arg("dhn") = py::none(),
           py::arg("dcn") = py::none(), kBackwardDoc)
      .def("_forward_autograd",
           [](PyRNN& self, py::sequence params, py::object x, py::object lengths, py::object h0,
              py::object c0, bool batch_first, bool train, double dropout, std::uint64_t seed,
              int threads) {
             ForwardCall call = forward_call(x, lengths, h0, c0, batch_first, "cpu", train, seed);
             call.threads = threads;
             auto [out, saved] = self.forward_with(call, self.weights_for(params, dropout));
             py::object handle = py::none();
             if (saved) handle = py::cast(std::const_pointer_cast<SavedForward>(saved));
             return py::make_tuple(out.y, out.hn, out.cn, handle);
           },
           py::arg("params"), py::arg("x"), py::arg("lengths"), py::arg("h0"), py::arg("c0"),
           py::kw_only(), py::arg("batch_first"), py::arg("train"), py::arg("dropout"),
           py::arg("dropout_seed"), py::arg("threads") = 0,
           "gpurnn.torch's forward: runs with `params` (arrays in state_dict order; the RNN's "
           "own memory is used in place, anything else is copied) and returns (y, hn, cn or "
           "None, saved or None). `dropout` is this call's inter-layer dropout (0 in eval mode); "
           "one other than the RNN's runs on a copy with it. `threads`: cpu threads (0: every "
           "core); backward runs on the forward's.")
      .def("_backward_autograd",
           [](PyRNN& self, const SavedForward& saved, py::object dy, py::object dhn,
              py::object dcn) { return self.backward_of(saved, dy, dhn, dcn); },
           py::arg("saved"), py::arg("dy"), py::arg("dhn") = py::none(),
           py::arg("dcn") = py::none(),
           "gpurnn.torch's backward of a saved training forward (which stays valid).")
      .def("__repr__", [](const PyRNN& r) {
        return "gpurnn.RNN(" + to_string(r.descriptor()) + ", dtype=" + numpy_name(r.dtype()) + ")";
      });
  bind_rnn_state(cls);
  bind_device_calls(cls);
  bind_cell_calls(cls);
}

}  // namespace gpurnn::python
