#pragma once
// The binding functions module.cpp calls, one per topic.

#include <pybind11/pybind11.h>

#include <string>

#include "gpurnn/rnn_descriptor.h"
#include "py_rnn.h"

namespace gpurnn::python {

void bind_descriptor(pybind11::module_& m);  // CellKind, RNNDescriptor
void bind_rnn(pybind11::module_& m);         // RNN (calls bind_rnn_state), Gradients
// Parameters, state_dict/load_state_dict, load/save and pickling of gpurnn.RNN.
void bind_rnn_state(pybind11::class_<PyRNN>& cls);

// A cell kind from a CellKind or a string ("lstm", "GRU", "rnn_tanh"...).
CellKind cell_kind_from(pybind11::handle obj, const char* where);

}  // namespace gpurnn::python
