#include "py_rnn.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <utility>

#include "gpurnn/device.h"

namespace gpurnn::python {
namespace {

std::atomic<std::size_t> g_weight_copies{0};

Tensor byte_buffer(std::size_t bytes) {
  return Tensor::empty({static_cast<std::int64_t>(bytes)}, DType::u8);
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// An unbatched argument ([T, F] or [L*D, F]) seen as a batch of one ([T, 1, F], [L*D, 1, F]).
void add_batch_axis(InputArray& in, const char* where, const char* name, const char* layout) {
  if (!in.given()) return;
  check_argument(in.view.rank() == 2, where, name,
                 "has shape " + to_string(in.view.shape()) + ", expected " + layout +
                     " because x is unbatched (rank 2)");
  in.reshape({in.view.dim(0), 1, in.view.dim(1)});
}

// The inverse for outputs: [A, 1, F] -> [A, F].
py::array drop_batch_axis(py::array a) { return a.reshape({a.shape(0), a.shape(2)}); }

}  // namespace

std::size_t weight_copy_count() { return g_weight_copies.load(); }

std::vector<std::string> available_devices() {
  std::vector<std::string> devices{"cpu"};
  for (int i = 0; i < cuda_device_count(); ++i) devices.push_back(to_string(Device::cuda(i)));
  for (int i = 0; i < virtual_device_count(); ++i) devices.push_back(to_string(Device::virtual_device(i)));
  return devices;
}

py::dict parameter_arrays(RNNWeights& weights, py::handle owner) {
  py::dict out;
  auto* base = static_cast<unsigned char*>(weights.flat().data());
  for (const ParameterInfo& p : weights.parameters()) {
    void* data = base + static_cast<std::size_t>(p.offset) * dtype_size(weights.dtype());
    out[py::str(p.name)] = borrowed_array(data, weights.dtype(), p.shape, owner);
  }
  return out;
}

PyRNN::PyRNN(RNNWeights weights)
    : weights_(std::make_shared<RNNWeights>(std::move(weights))) {
  check_argument(weights_->device().is_cpu(), "RNN", "weights", "must be on the cpu");
}

std::shared_ptr<Backend> PyRNN::backend_for(const std::string& device, int threads) {
  // "auto" is the cpu until this module can move numpy arrays to a GPU.
  if (device != "auto" && device != "cpu") {
    const char* where = "RNN.forward";
    Device wanted;
    try {
      wanted = parse_device(device);
    } catch (const Error& e) {
      throw Error(e.code(), std::string(where) + ": argument 'device': " + e.what());
    }
    const std::vector<std::string> devices = available_devices();
    const bool built = std::find(devices.begin(), devices.end(), to_string(wanted)) != devices.end();
    throw Error(ErrorCode::unsupported,
                std::string(where) + ": argument 'device' is '" + device + "', " +
                    (built ? "but numpy arrays live on the host and this module runs only on the cpu"
                           : "but this build runs on: " + joined(devices) + " (see gpurnn.devices())"));
  }
  std::shared_ptr<Backend>& slot = backends_[threads];
  if (!slot) {
    BackendOptions options;
    options.num_threads = threads;
    slot = make_backend("cpu", options);
  }
  return slot;
}

Backend& PyRNN::cuda_backend(int device) {
  check_argument(device >= 0, "gpurnn.torch", "device", "must be a CUDA device index, got " + std::to_string(device));
  std::unique_ptr<Backend>& slot = cuda_backends_[device];
  if (!slot) slot = make_backend("cuda:" + std::to_string(device));
  return *slot;
}

std::shared_ptr<const RNNWeights> PyRNN::weights_for(py::sequence params, double dropout) {
  const char* where = "gpurnn.torch forward";
  const std::vector<ParameterInfo>& layout = weights_->parameters();
  check_argument(py::len(params) == layout.size(), where, "params",
                 "has " + std::to_string(py::len(params)) + " arrays, expected " +
                     std::to_string(layout.size()) + " for " + to_string(descriptor()));
  check_argument(dropout >= 0.0 && dropout < 1.0, where, "dropout",
                 "is " + std::to_string(dropout) + ", expected a probability in [0, 1)");
  const bool keep_dropout = dropout == descriptor().dropout;
  const std::size_t elem = dtype_size(dtype());
  auto* base = static_cast<unsigned char*>(weights_->flat().data());
  const py::dtype own_dtype(numpy_storage(dtype()));
  bool all_own = keep_dropout;
  for (std::size_t i = 0; i < layout.size() && all_own; ++i) {
    const py::handle p = params[i];
    if (!py::isinstance<py::array>(p)) {
      all_own = false;
      break;
    }
    const auto a = py::reinterpret_borrow<py::array>(p);
    all_own = a.data() == base + static_cast<std::size_t>(layout[i].offset) * elem &&
              a.dtype().is(own_dtype) &&
              static_cast<std::size_t>(a.size()) == static_cast<std::size_t>(layout[i].shape.numel()) &&
              (a.flags() & py::array::c_style) != 0;
  }
  if (all_own) return weights_;

  // A private copy: checked in full before anything is copied.
  RNNDescriptor d = descriptor();
  d.dropout = dropout;
  std::vector<InputArray> values;
  values.reserve(layout.size());
  for (std::size_t i = 0; i < layout.size(); ++i) {
    InputArray in = float_input(params[i], where, layout[i].name.c_str(), dtype(),
                                /*optional=*/false, Layout::copy_if_needed);
    check_argument(in.view.shape() == layout[i].shape, where, layout[i].name.c_str(),
                   "has shape " + to_string(in.view.shape()) + ", expected " +
                       to_string(layout[i].shape) + " for " + to_string(descriptor()));
    values.push_back(std::move(in));
  }
  auto copy = std::make_shared<RNNWeights>(d, dtype());
  ++g_weight_copies;
  run_without_gil([&] {
    auto* dst = static_cast<unsigned char*>(copy->flat().data());
    for (std::size_t i = 0; i < layout.size(); ++i) {
      std::memcpy(dst + static_cast<std::size_t>(layout[i].offset) * elem, values[i].view.data(),
                  values[i].view.bytes());
    }
  });
  return copy;
}

ForwardResult PyRNN::forward(const ForwardCall& call) {
  if (call.train) saved_.reset();
  auto [out, saved] = forward_with(call, weights_);
  if (call.train) saved_ = std::move(saved);
  return out;
}

std::pair<ForwardResult, std::shared_ptr<const SavedForward>> PyRNN::forward_with(
    const ForwardCall& call, std::shared_ptr<const RNNWeights> weights) {
  const char* where = "RNN.forward";
  const RNNDescriptor& d = weights->descriptor();
  const DType dt = weights->dtype();
  std::shared_ptr<Backend> backend = backend_for(call.device, call.threads);

  InputArray x = float_input(call.x, where, "x", dt, /*optional=*/false);
  check_argument(x.view.rank() == 2 || x.view.rank() == 3, where, "x",
                 "has shape " + to_string(x.view.shape()) +
                     ", expected [T, B, I] ([B, T, I] with batch_first=True) or unbatched [T, I]");
  const bool unbatched = x.view.rank() == 2;
  const bool batch_first = call.batch_first && !unbatched;  // PyTorch ignores it when unbatched
  InputArray lengths = lengths_input(call.lengths, where);
  InputArray h0 = float_input(call.h0, where, "h0", dt, /*optional=*/true);
  InputArray c0 = float_input(call.c0, where, "c0", dt, /*optional=*/true);
  if (unbatched) {
    check_argument(!lengths.given(), where, "lengths", "must be None when x is unbatched [T, I]");
    x.reshape({x.view.dim(0), 1, x.view.dim(1)});
    add_batch_axis(h0, where, "h0", "[L*D, H_out]");
    add_batch_axis(c0, where, "c0", "[L*D, H]");
  }
  h0.copy_if_overlaps(x);
  c0.copy_if_overlaps(x);
  c0.copy_if_overlaps(h0);

  SequenceShape s;
  s.batch_first = batch_first;
  s.seq_len = x.view.dim(batch_first ? 1 : 0);
  s.batch = x.view.dim(batch_first ? 0 : 1);
  check_argument(s.seq_len > 0 && s.batch > 0, where, "x",
                 "has shape " + to_string(x.view.shape()) +
                     ", expected at least one step and one sequence");
  const std::int64_t states = static_cast<std::int64_t>(d.num_layers) * d.num_directions();
  const Shape y_shape = batch_first ? Shape{s.batch, s.seq_len, d.output_size()}
                                    : Shape{s.seq_len, s.batch, d.output_size()};
  ForwardResult out{new_array(dt, y_shape), new_array(dt, {states, s.batch, d.state_size()}),
                    py::none()};
  py::array cn;
  if (d.has_cell_state()) cn = new_array(dt, {states, s.batch, d.hidden_size});

  ForwardArgs a;
  a.mode = call.train ? ForwardMode::training : ForwardMode::inference;
  a.batch_first = batch_first;
  a.x = x.view;
  a.lengths = lengths.view;
  a.h0 = h0.view;
  a.c0 = c0.view;
  a.y = mutable_view(out.y, dt);
  a.hn = mutable_view(out.hn, dt);
  if (d.has_cell_state()) a.cn = mutable_view(cn, dt);
  a.dropout_seed = call.dropout_seed;
  Tensor reserve;
  run_without_gil([&] {
    Tensor workspace = byte_buffer(backend->workspace_size(d, s, dt, a.mode));
    if (call.train) reserve = byte_buffer(backend->reserve_size(d, s, dt));
    a.workspace = workspace.view();
    if (call.train) a.reserve = reserve.view();
    backend->forward(*weights, a);
  });
  std::shared_ptr<const SavedForward> saved;
  if (call.train) {
    saved = std::make_shared<const SavedForward>(
        SavedForward{std::move(weights), backend, x, lengths, batch_first, unbatched, reserve});
  }

  if (unbatched) {
    out.y = drop_batch_axis(out.y);
    out.hn = drop_batch_axis(out.hn);
    if (d.has_cell_state()) cn = drop_batch_axis(cn);
  }
  if (d.has_cell_state()) out.cn = cn;
  return {out, saved};
}

Gradients PyRNN::backward(py::handle dy, py::handle dhn, py::handle dcn) {
  if (!saved_) {
    throw Error(ErrorCode::invalid_argument,
                "RNN.backward: no saved forward pass; call forward(..., train=True) first "
                "(each backward consumes the training forward before it)");
  }
  // A reference of our own: another thread may replace saved_ while we compute.
  const std::shared_ptr<const SavedForward> saved = saved_;
  Gradients g = run_backward(*saved, /*consume_reserve=*/true, dy, dhn, dcn);
  // As in PyTorch without retain_graph, a backward consumes its forward (the Backend contract
  // is one backward_data per training forward) -- unless a newer forward replaced it already.
  if (saved_ == saved) saved_.reset();
  return g;
}

Gradients PyRNN::backward_of(const SavedForward& saved, py::handle dy, py::handle dhn,
                             py::handle dcn) {
  return run_backward(saved, /*consume_reserve=*/false, dy, dhn, dcn);
}

Gradients PyRNN::run_backward(const SavedForward& sv, bool consume_reserve, py::handle dy_obj,
                              py::handle dhn_obj, py::handle dcn_obj) {
  const char* where = "RNN.backward";
  const RNNWeights& weights = *sv.weights;
  const RNNDescriptor& d = weights.descriptor();
  const DType dt = weights.dtype();
  InputArray dy = float_input(dy_obj, where, "dy", dt, /*optional=*/false);
  InputArray dhn = float_input(dhn_obj, where, "dhn", dt, /*optional=*/true);
  InputArray dcn = float_input(dcn_obj, where, "dcn", dt, /*optional=*/true);
  if (sv.unbatched) {
    add_batch_axis(dy, where, "dy", "[T, D*H_out] like y");
    add_batch_axis(dhn, where, "dhn", "[L*D, H_out] like hn");
    add_batch_axis(dcn, where, "dcn", "[L*D, H] like cn");
  }
  dhn.copy_if_overlaps(dy);
  dcn.copy_if_overlaps(dy);
  dcn.copy_if_overlaps(dhn);

  SequenceShape s;
  s.batch_first = sv.batch_first;
  s.seq_len = sv.x.view.dim(sv.batch_first ? 1 : 0);
  s.batch = sv.x.view.dim(sv.batch_first ? 0 : 1);
  const std::int64_t states = static_cast<std::int64_t>(d.num_layers) * d.num_directions();
  py::array dx = new_array(dt, sv.x.view.shape());
  py::array dh0 = new_array(dt, {states, s.batch, d.state_size()});
  py::array dc0;
  if (d.has_cell_state()) dc0 = new_array(dt, {states, s.batch, d.hidden_size});

  BackwardDataArgs bd;
  bd.batch_first = sv.batch_first;
  bd.lengths = sv.lengths.view;
  bd.dy = dy.view;
  bd.dhn = dhn.view;
  bd.dcn = dcn.view;
  bd.dx = mutable_view(dx, dt);
  bd.dh0 = mutable_view(dh0, dt);
  if (d.has_cell_state()) bd.dc0 = mutable_view(dc0, dt);
  BackwardWeightsArgs bw;
  bw.batch_first = sv.batch_first;
  bw.x = sv.x.view;
  bw.grad_mode = GradMode::overwrite;
  RNNWeights grads;
  Backend& backend = *sv.backend;
  run_without_gil([&] {
    // backward_data overwrites the reserve's saved activations with their gradients.
    Tensor reserve = consume_reserve ? sv.reserve : sv.reserve.clone();
    // Half weights have f32 gradients (Backend::backward_weights' contract).
    grads = RNNWeights(d, is_half(dt) ? DType::f32 : dt);
    Tensor workspace = byte_buffer(backend.workspace_size(d, s, dt, ForwardMode::training));
    bd.workspace = workspace.view();
    bd.reserve = reserve.view();
    backend.backward_data(weights, bd);
    bw.workspace = workspace.view();
    bw.reserve = reserve.view();
    backend.backward_weights(weights, bw, grads);
  });

  Gradients g;
  g.dx = sv.unbatched ? drop_batch_axis(dx) : dx;
  g.dh0 = sv.unbatched ? drop_batch_axis(dh0) : dh0;
  g.dc0 = d.has_cell_state() ? py::object(sv.unbatched ? drop_batch_axis(dc0) : dc0) : py::none();
  const py::object owner = tensor_owner(grads.flat());
  g.flat = borrowed_array(grads.flat().data(), grads.dtype(), {grads.numel()}, owner);
  g.parameters = parameter_arrays(grads, owner);
  return g;
}

}  // namespace gpurnn::python
