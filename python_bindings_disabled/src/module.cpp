// The native part of the `gpurnn` package (gpurnn/_core): libgpurnn's RNNs over numpy arrays.

#include <pybind11/stl.h>

#include "bindings.h"
#include "errors.h"
#include "gpurnn/backend.h"
#include "gpurnn/version.h"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  using namespace gpurnn::python;
  m.doc() = "libgpurnn: vanilla RNN, LSTM and GRU with PyTorch's semantics, on numpy arrays.";
  // Classes and functions take their __module__ (and the names in docstring signatures) from
  // the module's __name__ when defined: present them as the package's, gpurnn.RNN.
  const py::object native_name = m.attr("__name__");
  m.attr("__name__") = "gpurnn";
  bind_errors(m);
  bind_descriptor(m);
  bind_rnn(m);
  m.def("devices", &available_devices,
        "The devices this process can see: 'cpu', then 'cuda:N' for each CUDA device when "
        "libgpurnn was built with CUDA. RNN.forward runs on 'cpu' (numpy arrays live on the "
        "host); naming a CUDA device raises gpurnn.UnsupportedError for now.");
  m.def("backends", &gpurnn::available_backends, "Names of the backends this build offers.");
  m.def("_input_copy_count", &input_copy_count,
        "Test hook: how many forward/backward inputs were copied (dtype conversion, aliasing) "
        "since import. Zero-copy inputs do not count.");
  m.def("_weight_copy_count", &weight_copy_count,
        "Test hook: how many gpurnn.torch calls ran on a private copy of the parameters "
        "(because they were not the RNN's own memory) since import.");
  m.attr("__version__") = gpurnn::version();
  m.attr("__name__") = native_name;
}
