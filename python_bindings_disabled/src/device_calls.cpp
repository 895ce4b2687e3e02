// gpurnn.torch's CUDA path: RNN._device_sizes, _forward_device and _backward_device.
//
// Every buffer is a torch tensor's device memory, passed as an integer address (0: absent): the
// weights (RNNWeights::borrow over the module's flat parameter tensor), x, the states, the
// outputs, the gradients, the workspace and the reserve. The library allocates none of them and
// queues the work on the caller's stream (torch.cuda.current_stream()), so torch's caching
// allocator orders their reuse; the calls return once the work is queued. The Python side keeps
// every tensor alive across the forward-backward pair (gpurnn/torch.py). Compiled in every
// build: without CUDA, or without the device, make_backend's Error(unsupported) says so.
//
// The sizes are asked with the descriptor the calls run with (the call's dropout, which torch
// reads from the module per call), never the one the RNN was built with.

#include <cstdint>
#include <string>

#include "bindings.h"
#include "gpurnn/device.h"

namespace gpurnn::python {
namespace py = pybind11;
namespace {

// The calls' common arguments.
struct DeviceProblem {
  int device;
  void* stream;
  RNNDescriptor desc;  // the RNN's, with this call's dropout
  SequenceShape shape;
};

// The RNN's descriptor with the call's dropout.
RNNDescriptor call_descriptor(const PyRNN& rnn, double dropout, const char* where) {
  check_argument(dropout >= 0.0 && dropout < 1.0, where, "dropout",
                 "is " + std::to_string(dropout) + ", expected a probability in [0, 1)");
  RNNDescriptor d = rnn.descriptor();
  d.dropout = dropout;
  return d;
}

DeviceProblem device_problem(const PyRNN& rnn, int device, std::uintptr_t stream, double dropout,
                             const std::vector<std::int64_t>& x_shape, bool batch_first, const char* where) {
  check_argument(x_shape.size() == 3, where, "x_shape",
                 "has " + std::to_string(x_shape.size()) + " dimensions, expected 3 ([T, B, I] or [B, T, I])");
  DeviceProblem p{device, reinterpret_cast<void*>(stream), call_descriptor(rnn, dropout, where), {}};
  p.shape.batch_first = batch_first;
  p.shape.seq_len = x_shape[batch_first ? 1 : 0];
  p.shape.batch = x_shape[batch_first ? 0 : 1];
  return p;
}

// The backend of a call on `device`: "cuda:N" (gpurnn.torch's CUDA path), or "cpu", whose sizes
// the tests check on machines without a GPU.
Backend& sizing_backend(PyRNN& rnn, const std::string& device, const char* where) {
  Device d;
  try {
    d = parse_device(device);
  } catch (const Error& e) {
    throw Error(e.code(), std::string(where) + ": argument 'device': " + e.what());
  }
  if (d.is_cpu()) return rnn.cpu_backend();
  check_argument(d.kind == DeviceKind::cuda, where, "device", "is '" + device + "', expected \"cpu\" or \"cuda:N\"");
  return rnn.cuda_backend(d.index);
}

// A view of device memory at `address` (empty when 0).
template <class View>
View device_view(std::uintptr_t address, const Shape& shape, DType dtype, int device) {
  if (address == 0) return View();
  return View(reinterpret_cast<void*>(address), shape, dtype, Device::cuda(device));
}

TensorView device_bytes(std::uintptr_t address, std::int64_t bytes, int device) {
  return device_view<TensorView>(address, {bytes}, DType::u8, device);
}

Shape state_shape(const RNNDescriptor& d, std::int64_t batch, std::int64_t width) {
  return {static_cast<std::int64_t>(d.num_layers) * d.num_directions(), batch, width};
}

}  // namespace

void bind_device_calls(py::class_<PyRNN>& cls) {
  cls.def(
         "_device_sizes",
         [](PyRNN& self, const std::string& device, std::int64_t seq_len, std::int64_t batch, bool batch_first,
            bool train, double dropout) {
           const char* where = "gpurnn.torch sizes";
           const RNNDescriptor d = call_descriptor(self, dropout, where);
           SequenceShape s;
           s.seq_len = seq_len;
           s.batch = batch;
           s.batch_first = batch_first;
           Backend& backend = sizing_backend(self, device, where);
           const std::size_t workspace =
               backend.workspace_size(d, s, self.dtype(), train ? ForwardMode::training : ForwardMode::inference);
           const std::size_t reserve = train ? backend.reserve_size(d, s, self.dtype()) : 0;
           return py::make_tuple(workspace, reserve);
         },
         py::arg("device"), py::arg("seq_len"), py::arg("batch"), py::arg("batch_first"), py::arg("train"),
         py::kw_only(), py::arg("dropout"),
         "gpurnn.torch: (workspace bytes, reserve bytes) of a call with dropout `dropout` on `device` "
         "(\"cuda:N\", or \"cpu\").")
      .def(
          "_forward_device",
          [](PyRNN& self, int device, std::uintptr_t stream, std::uintptr_t flat, std::vector<std::int64_t> x_shape,
             std::uintptr_t x, py::object lengths, std::uintptr_t h0, std::uintptr_t c0, std::uintptr_t y,
             std::uintptr_t hn, std::uintptr_t cn, std::uintptr_t workspace, std::int64_t workspace_bytes,
             std::uintptr_t reserve, std::int64_t reserve_bytes, bool batch_first, bool train, double dropout,
             std::uint64_t seed) {
            const char* where = "gpurnn.torch forward (cuda)";
            const DeviceProblem p = device_problem(self, device, stream, dropout, x_shape, batch_first, where);
            const RNNDescriptor& d = p.desc;
            const DType dt = self.dtype();
            const RNNWeights weights =
                RNNWeights::borrow(d, device_view<TensorView>(flat, {self.weights().numel()}, dt, device));
            const InputArray staged_lengths = lengths_input(lengths, where);
            const std::int64_t T = p.shape.seq_len, B = p.shape.batch;
            ForwardArgs a;
            a.mode = train ? ForwardMode::training : ForwardMode::inference;
            a.batch_first = batch_first;
            a.x = device_view<ConstTensorView>(x, Shape(x_shape.begin(), x_shape.end()), dt, device);
            a.lengths = staged_lengths.view;
            a.h0 = device_view<ConstTensorView>(h0, state_shape(d, B, d.state_size()), dt, device);
            a.c0 = device_view<ConstTensorView>(c0, state_shape(d, B, d.hidden_size), dt, device);
            a.y = device_view<TensorView>(y, batch_first ? Shape{B, T, d.output_size()} : Shape{T, B, d.output_size()},
                                          dt, device);
            a.hn = device_view<TensorView>(hn, state_shape(d, B, d.state_size()), dt, device);
            a.cn = device_view<TensorView>(cn, state_shape(d, B, d.hidden_size), dt, device);
            a.workspace = device_bytes(workspace, workspace_bytes, device);
            a.reserve = device_bytes(reserve, reserve_bytes, device);
            a.dropout_seed = seed;
            a.stream = p.stream;
            Backend& backend = self.cuda_backend(device);
            self.run_without_gil([&] { backend.forward(weights, a); });
          },
          py::arg("device"), py::arg("stream"), py::arg("flat"), py::arg("x_shape"), py::arg("x"),
          py::arg("lengths"), py::arg("h0"), py::arg("c0"), py::arg("y"), py::arg("hn"), py::arg("cn"),
          py::arg("workspace"), py::arg("workspace_bytes"), py::arg("reserve"), py::arg("reserve_bytes"),
          py::kw_only(), py::arg("batch_first"), py::arg("train"), py::arg("dropout"), py::arg("dropout_seed"),
          "gpurnn.torch: a forward on CUDA device `device` over torch tensors' device addresses (0: absent), "
          "queued on `stream`.")
      .def(
          "_backward_device",
          [](PyRNN& self, int device, std::uintptr_t stream, std::uintptr_t flat, double dropout,
             std::vector<std::int64_t> x_shape, std::uintptr_t x, py::object lengths, bool batch_first,
             std::uintptr_t dy, std::uintptr_t dhn, std::uintptr_t dcn, std::uintptr_t dx, std::uintptr_t dh0,
             std::uintptr_t dc0, std::uintptr_t grads, std::uintptr_t workspace, std::int64_t workspace_bytes,
             std::uintptr_t reserve, std::int64_t reserve_bytes) {
            const char* where = "gpurnn.torch backward (cuda)";
            const DeviceProblem p = device_problem(self, device, stream, dropout, x_shape, batch_first, where);
            const RNNDescriptor& d = p.desc;
            const DType dt = self.dtype();
            const std::int64_t n = self.weights().numel();
            const RNNWeights weights = RNNWeights::borrow(d, device_view<TensorView>(flat, {n}, dt, device));
            // Half weights have f32 gradients (the precision rule); `grads` is allocated so.
            const DType grads_dtype = is_half(dt) ? DType::f32 : dt;
            RNNWeights gradients = RNNWeights::borrow(d, device_view<TensorView>(grads, {n}, grads_dtype, device));
            const InputArray staged_lengths = lengths_input(lengths, where);
            const std::int64_t T = p.shape.seq_len, B = p.shape.batch;
            const Shape y_shape = batch_first ? Shape{B, T, d.output_size()} : Shape{T, B, d.output_size()};
            BackwardDataArgs bd;
            bd.batch_first = batch_first;
            bd.lengths = staged_lengths.view;
            bd.dy = device_view<ConstTensorView>(dy, y_shape, dt, device);
            bd.dhn = device_view<ConstTensorView>(dhn, state_shape(d, B, d.state_size()), dt, device);
            bd.dcn = device_view<ConstTensorView>(dcn, state_shape(d, B, d.hidden_size), dt, device);
            bd.dx = device_view<TensorView>(dx, Shape(x_shape.begin(), x_shape.end()), dt, device);
            bd.dh0 = device_view<TensorView>(dh0, state_shape(d, B, d.state_size()), dt, device);
            bd.dc0 = device_view<TensorView>(dc0, state_shape(d, B, d.hidden_size), dt, device);
            bd.workspace = device_bytes(workspace, workspace_bytes, device);
            bd.reserve = device_bytes(reserve, reserve_bytes, device);
            bd.stream = p.stream;
            BackwardWeightsArgs bw;
            bw.batch_first = batch_first;
            bw.x = device_view<ConstTensorView>(x, Shape(x_shape.begin(), x_shape.end()), dt, device);
            bw.workspace = bd.workspace;
            bw.reserve = bd.reserve;
            bw.grad_mode = GradMode::overwrite;
            bw.stream = p.stream;
            Backend& backend = self.cuda_backend(device);
            self.run_without_gil([&] {
              backend.backward_data(weights, bd);
              backend.backward_weights(weights, bw, gradients);
            });
          },
          py::arg("device"), py::arg("stream"), py::arg("flat"), py::arg("dropout"), py::arg("x_shape"),
          py::arg("x"), py::arg("lengths"), py::arg("batch_first"), py::arg("dy"), py::arg("dhn"), py::arg("dcn"),
          py::arg("dx"), py::arg("dh0"), py::arg("dc0"), py::arg("grads"), py::arg("workspace"),
          py::arg("workspace_bytes"), py::arg("reserve"), py::arg("reserve_bytes"),
          "gpurnn.torch: the backward (data, then weights into `grads`: float32 for half weights) of a "
          "_forward_device training pass, on its reserve, queued on `stream`.");
}

}  // namespace gpurnn::python
