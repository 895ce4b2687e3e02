// gpurnn.torch's cell modules (LSTMCell, GRUCell, RNNCell): one inference step of a one-layer
// RNN over CPU torch tensors' memory, for the calls that need no gradient (a sequence stepped
// one call at a time: streaming decoders, voice activity detection). The step runs the cpu
// backend on the RNN's own weights -- the module's parameters are views of them -- with a
// workspace and a y buffer kept per batch size, so a call allocates nothing but what the
// caller passes. Calls that need gradients take the general path (torch.py's _RNNFunction).

#include <pybind11/pybind11.h>

#include <cstdint>

#include "bindings.h"
#include "gpurnn/error.h"

namespace gpurnn::python {
namespace {

namespace py = pybind11;

ConstTensorView host_view(std::uintptr_t address, const Shape& shape, DType dtype) {
  if (address == 0) return {};
  return ConstTensorView(reinterpret_cast<const void*>(address), shape, dtype, Device::cpu());
}

TensorView host_output(std::uintptr_t address, const Shape& shape, DType dtype) {
  if (address == 0) return {};
  return TensorView(reinterpret_cast<void*>(address), shape, dtype, Device::cpu());
}

}  // namespace

void PyRNN::cell_step(std::uintptr_t x, std::uintptr_t h0, std::uintptr_t c0, std::uintptr_t hn,
                      std::uintptr_t cn, std::int64_t batch, int threads) {
  const char* where = "gpurnn.torch cell";
  const RNNDescriptor& d = descriptor();
  check_argument(d.num_layers == 1 && !d.bidirectional && d.proj_size == 0, where, "rnn",
                 "is " + to_string(d) + ", expected one unidirectional layer without projection (a cell)");
  check_argument(batch > 0, where, "batch", "must be positive, got " + std::to_string(batch));
  check_argument(x != 0 && hn != 0, where, "x", "and hn must be given");
  check_argument((cn != 0) == d.has_cell_state(), where, "cn", d.has_cell_state() ? "must be given (LSTM)" : "must be 0");
  const DType dt = dtype();
  const std::int64_t H = d.hidden_size;
  Backend& backend = *backend_for("cpu", threads);
  StepBuffers& buffers = step_buffers_[batch];
  const SequenceShape shape{1, batch, false};
  if (!buffers.workspace.defined()) {
    buffers.workspace = Tensor::empty(
        {static_cast<std::int64_t>(backend.workspace_size(d, shape, dt, ForwardMode::inference))}, DType::u8);
    buffers.y = Tensor::empty({1, batch, H}, dt);
  }
  ForwardArgs a;
  a.mode = ForwardMode::inference;
  a.x = host_view(x, {1, batch, d.input_size}, dt);
  a.h0 = host_view(h0, {1, batch, H}, dt);
  a.c0 = host_view(c0, {1, batch, H}, dt);
  a.y = buffers.y.view();
  a.hn = host_output(hn, {1, batch, H}, dt);
  a.cn = host_output(cn, {1, batch, H}, dt);
  a.workspace = buffers.workspace.view();
  run_without_gil([&] { backend.forward(weights(), a); });
}

void bind_cell_calls(py::class_<PyRNN>& cls) {
  cls.def("_cell_step", &PyRNN::cell_step, py::arg("x"), py::arg("h0"), py::arg("c0"), py::arg("hn"), py::arg("cn"),
          py::arg("batch"), py::arg("threads") = 0,
          "gpurnn.torch's cells: one inference step of this one-layer RNN on its own weights, over "
          "the addresses of contiguous CPU tensors in its dtype (x [B, I], h0 and c0 [B, H] or 0 for "
          "zeros, hn and cn [B, H] written; cn 0 unless LSTM). `threads`: cpu threads (0: every core).");
}

}  // namespace gpurnn::python
