// gpurnn.torch's cell modules (LSTMCell, GRUCell, RNNCell): one step of a one-layer RNN over
// CPU torch tensors' memory (a sequence stepped one call at a time: streaming decoders, voice
// activity detection), as an inference step, or as a training step whose backward
// (_cell_backward) writes dx, dh0, dc0 and the weight gradients into tensors the caller made.
// The steps run the cpu backend on the RNN's own weights -- the module's parameters are views
// of them -- with workspaces and a y buffer kept per batch size: a call allocates only its
// reserve and what the caller passes.

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

// The checks every cell call shares: a one-layer unidirectional RNN without projection, a batch,
// x and hn given, cn given exactly for an LSTM.
void check_cell_call(const RNNDescriptor& d, std::uintptr_t x, std::uintptr_t hn, std::uintptr_t cn,
                     std::int64_t batch) {
  const char* where = "gpurnn.torch cell";
  check_argument(d.num_layers == 1 && !d.bidirectional && d.proj_size == 0, where, "rnn",
                 "is " + to_string(d) + ", expected one unidirectional layer without projection (a cell)");
  check_argument(batch > 0, where, "batch", "must be positive, got " + std::to_string(batch));
  check_argument(x != 0 && hn != 0, where, "x", "and hn must be given");
  check_argument((cn != 0) == d.has_cell_state(), where, "cn", d.has_cell_state() ? "must be given (LSTM)" : "must be 0");
}

}  // namespace

PyRNN::StepBuffers& PyRNN::step_buffers(Backend& backend, std::int64_t batch, bool train) {
  const RNNDescriptor& d = descriptor();
  StepBuffers& buffers = step_buffers_[batch];
  const SequenceShape shape{1, batch, false};
  const ForwardMode mode = train ? ForwardMode::training : ForwardMode::inference;
  Tensor& workspace = train ? buffers.train_workspace : buffers.workspace;
  if (!workspace.defined()) {
    workspace = Tensor::empty({static_cast<std::int64_t>(backend.workspace_size(d, shape, dtype(), mode))}, DType::u8);
  }
  if (!buffers.y.defined()) buffers.y = Tensor::empty({1, batch, d.hidden_size}, dtype());
  return buffers;
}

namespace {

ForwardArgs cell_forward_args(const RNNDescriptor& d, DType dt, std::uintptr_t x, std::uintptr_t h0,
                              std::uintptr_t c0, std::uintptr_t hn, std::uintptr_t cn, std::int64_t batch) {
  const std::int64_t H = d.hidden_size;
  ForwardArgs a;
  a.x = host_view(x, {1, batch, d.input_size}, dt);
  a.h0 = host_view(h0, {1, batch, H}, dt);
  a.c0 = host_view(c0, {1, batch, H}, dt);
  a.hn = host_output(hn, {1, batch, H}, dt);
  a.cn = host_output(cn, {1, batch, H}, dt);
  return a;
}

}  // namespace

void PyRNN::cell_step(std::uintptr_t x, std::uintptr_t h0, std::uintptr_t c0, std::uintptr_t hn,
                      std::uintptr_t cn, std::int64_t batch, int threads) {
  const RNNDescriptor& d = descriptor();
  check_cell_call(d, x, hn, cn, batch);
  Backend& backend = *backend_for("cpu", threads);
  StepBuffers& buffers = step_buffers(backend, batch, false);
  ForwardArgs a = cell_forward_args(d, dtype(), x, h0, c0, hn, cn, batch);
  a.mode = ForwardMode::inference;
  a.y = buffers.y.view();
  a.workspace = buffers.workspace.view();
  run_without_gil([&] { backend.forward(weights(), a); });
}

std::shared_ptr<CellStepSaved> PyRNN::cell_train_step(std::uintptr_t x, std::uintptr_t h0, std::uintptr_t c0,
                                                      std::uintptr_t hn, std::uintptr_t cn, std::int64_t batch,
                                                      int threads) {
  const RNNDescriptor& d = descriptor();
  check_cell_call(d, x, hn, cn, batch);
  Backend& backend = *backend_for("cpu", threads);
  StepBuffers& buffers = step_buffers(backend, batch, true);
  auto saved = std::make_shared<CellStepSaved>();
  saved->batch = batch;
  saved->reserve = Tensor::empty(
      {static_cast<std::int64_t>(backend.reserve_size(d, SequenceShape{1, batch, false}, dtype()))}, DType::u8);
  ForwardArgs a = cell_forward_args(d, dtype(), x, h0, c0, hn, cn, batch);
  a.mode = ForwardMode::training;
  a.y = buffers.y.view();
  a.workspace = buffers.train_workspace.view();
  a.reserve = saved->reserve.view();
  run_without_gil([&] { backend.forward(weights(), a); });
  return saved;
}

void PyRNN::cell_backward(CellStepSaved& saved, std::uintptr_t x, std::uintptr_t dh, std::uintptr_t dc,
                          std::uintptr_t dx, std::uintptr_t dh0, std::uintptr_t dc0, std::uintptr_t grads,
                          int threads) {
  const char* where = "gpurnn.torch cell backward";
  const RNNDescriptor& d = descriptor();
  const DType dt = dtype();
  const std::int64_t B = saved.batch, H = d.hidden_size;
  check_argument(x != 0 && dh != 0 && dx != 0 && grads != 0, where, "x", "dh, dx and grads must be given");
  Backend& backend = *backend_for("cpu", threads);
  StepBuffers& buffers = step_buffers(backend, B, true);
  BackwardDataArgs bd;
  bd.dy = host_view(dh, {1, B, H}, dt);  // h1 is y's only step (and hn): its gradient enters once
  bd.dcn = host_view(dc, {1, B, H}, dt);
  bd.dx = host_output(dx, {1, B, d.input_size}, dt);
  bd.dh0 = host_output(dh0, {1, B, H}, dt);
  bd.dc0 = host_output(dc0, {1, B, H}, dt);
  bd.workspace = buffers.train_workspace.view();
  BackwardWeightsArgs bw;
  bw.x = host_view(x, {1, B, d.input_size}, dt);
  bw.workspace = buffers.train_workspace.view();
  bw.grad_mode = GradMode::overwrite;
  // Half weights have f32 gradients (Backend::backward_weights' contract).
  RNNWeights gradients = RNNWeights::borrow(
      d, host_output(grads, {weights().numel()}, is_half(dt) ? DType::f32 : dt));
  run_without_gil([&] {
    // backward_data overwrites the reserve's saved activations, so it runs on a copy (one step's
    // reserve: a few kilobytes) and a second backward (retain_graph=True) finds the original.
    Tensor reserve = saved.reserve.clone();
    bd.reserve = reserve.view();
    bw.reserve = reserve.view();
    backend.backward_data(weights(), bd);
    backend.backward_weights(weights(), bw, gradients);
  });
}

void bind_cell_calls(py::class_<PyRNN>& cls) {
  py::class_<CellStepSaved, std::shared_ptr<CellStepSaved>>(cls, "_CellStepSaved",
                                                             "What a cell's training step keeps for its backward.");
  cls.def("_cell_train_step", &PyRNN::cell_train_step, py::arg("x"), py::arg("h0"), py::arg("c0"), py::arg("hn"),
          py::arg("cn"), py::arg("batch"), py::arg("threads") = 0,
          "gpurnn.torch's cells: _cell_step as a training forward; returns what _cell_backward needs.");
  cls.def("_cell_backward", &PyRNN::cell_backward, py::arg("saved"), py::arg("x"), py::arg("dh"), py::arg("dc"),
          py::arg("dx"), py::arg("dh0"), py::arg("dc0"), py::arg("grads"), py::arg("threads") = 0,
          "gpurnn.torch's cells: the backward of a _cell_train_step over tensors' addresses (0: absent or not "
          "wanted): dx, dh0, dc0 and the flat weight gradients (float32 for half weights) overwritten.");
  cls.def("_cell_step", &PyRNN::cell_step, py::arg("x"), py::arg("h0"), py::arg("c0"), py::arg("hn"), py::arg("cn"),
          py::arg("batch"), py::arg("threads") = 0,
          "gpurnn.torch's cells: one inference step of this one-layer RNN on its own weights, over "
          "the addresses of contiguous CPU tensors in its dtype (x [B, I], h0 and c0 [B, H] or 0 for "
          "zeros, hn and cn [B, H] written; cn 0 unless LSTM). `threads`: cpu threads (0: every core).");
}

}  // namespace gpurnn::python
