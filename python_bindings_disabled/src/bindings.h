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
// gpurnn.torch's CUDA calls over torch tensors' device addresses (device_calls.cpp).
void bind_device_calls(pybind11::class_<PyRNN>& cls);
// gpurnn.torch's cells: one inference step over CPU tensors' addresses (cell_calls.cpp).
void bind_cell_calls(pybind11::class_<PyRNN>& cls);

// A cell kind from a CellKind or a string ("lstm", "GRU", "rnn_tanh"...).
CellKind cell_kind_from(pybind11::handle obj, const char* where);
// The descriptor of the keyword arguments shared by RNNDescriptor(...) and RNN(...).
RNNDescriptor descriptor_from(pybind11::handle cell, std::int64_t input_size,
                              std::int64_t hidden_size, int num_layers, bool bidirectional,
                              bool bias, std::int64_t proj_size, double dropout, const char* where);

}  // namespace gpurnn::python
