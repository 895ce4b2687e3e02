#pragma once
// PyRNN: the state behind gpurnn.RNN. It runs the Backend directly (not gpurnn::RNN) so that
// inputs are read from the caller's numpy memory and outputs are written straight into new
// numpy arrays: no copy on either side for C-contiguous inputs in the model's dtype.
//
// Threads: compute runs with the GIL released under a per-object mutex (one forward or
// backward at a time per RNN; separate RNN objects run in parallel). The mutex is only ever
// taken with the GIL released, and never held while re-acquiring it, so the two cannot
// deadlock. Everything that touches Python objects (saved_) runs with the GIL held.

#include <pybind11/pybind11.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "array_conversion.h"
#include "gpurnn/backend.h"

namespace gpurnn::python {

struct ForwardCall {
  py::handle x, lengths, h0, c0;
  bool batch_first = false;
  std::string device = "auto";
  int threads = 0;  // cpu threads; 0: the library's default (every core)
  bool train = false;
  std::uint64_t dropout_seed = 0;
};

struct ForwardResult {
  py::array y, hn;
  py::object cn;  // None unless LSTM
};

// What backward() returns (gpurnn.Gradients).
struct Gradients {
  py::array dx, dh0;
  py::object dc0;        // None unless LSTM
  py::dict parameters;   // PyTorch name -> gradient, views into `flat`
  py::array flat;        // every parameter gradient in state_dict order
};

// What a training forward keeps for its backward: the weights it ran with (the RNN's own, or
// the private copy of gpurnn.torch parameters that were not the RNN's memory), the caller's x
// and lengths (referenced, not copied), and the library's reserve.
struct SavedForward {
  std::shared_ptr<const RNNWeights> weights;
  std::shared_ptr<Backend> backend;
  InputArray x;
  InputArray lengths;
  bool batch_first = false;
  bool unbatched = false;
  Tensor reserve;
};

// What a cell's training step keeps for its backward (cell_calls.cpp).
struct CellStepSaved {
  std::int64_t batch = 0;
  Tensor reserve;
};

class PyRNN {
 public:
  explicit PyRNN(RNNWeights weights);

  const RNNDescriptor& descriptor() const { return weights_->descriptor(); }
  DType dtype() const { return weights_->dtype(); }
  RNNWeights& weights() { return *weights_; }
  const RNNWeights& weights() const { return *weights_; }

  // gpurnn.RNN.forward / backward: a training forward is kept in the RNN until the backward
  // that consumes it (or the next training forward).
  ForwardResult forward(const ForwardCall& call);
  Gradients backward(py::handle dy, py::handle dhn, py::handle dcn);
  bool has_saved_forward() const { return saved_ != nullptr; }

  // The autograd path of gpurnn.torch. The weights a call runs with: the RNN's own when
  // every array of `params` (state_dict order) is its parameter's own memory -- torch
  // Parameters aliased by flatten_parameters -- and otherwise a private copy of `params`.
  // A `dropout` other than the descriptor's also gives a copy, with that dropout (0 for a
  // module in eval mode whose gradients are wanted; torch reads a module's dropout per call).
  std::shared_ptr<const RNNWeights> weights_for(py::sequence params, double dropout);
  // The CUDA backend of device `device` (created on first use; Error(unsupported) in a build
  // without CUDA or without that device), for gpurnn.torch's CUDA path (device_calls.cpp).
  Backend& cuda_backend(int device);
  // The cpu backend on the default thread count (device_calls.cpp's sizes on "cpu").
  Backend& cpu_backend() { return *backend_for("cpu", 0); }
  // A forward with `weights`; a training one returns what its backward needs, which the
  // caller holds (any number may be pending at once).
  std::pair<ForwardResult, std::shared_ptr<const SavedForward>> forward_with(
      const ForwardCall& call, std::shared_ptr<const RNNWeights> weights);
  // The backward of `saved`, on a copy of its reserve: `saved` stays valid, so a graph
  // kept with retain_graph=True can run backward again.
  Gradients backward_of(const SavedForward& saved, py::handle dy, py::handle dhn,
                        py::handle dcn);

  // gpurnn.torch's cells (cell_calls.cpp): one inference step of this one-layer RNN on its own
  // weights over contiguous CPU memory in its dtype, addresses as integers (0: absent; h0 and
  // c0 absent are zeros); the workspace and y are kept per batch size.
  void cell_step(std::uintptr_t x, std::uintptr_t h0, std::uintptr_t c0, std::uintptr_t hn, std::uintptr_t cn,
                 std::int64_t batch, int threads);
  // The same step as a training forward: what its backward needs is returned (the reserve).
  std::shared_ptr<CellStepSaved> cell_train_step(std::uintptr_t x, std::uintptr_t h0, std::uintptr_t c0,
                                                 std::uintptr_t hn, std::uintptr_t cn, std::int64_t batch, int threads);
  // Its backward: dh (and dc) of hn (and cn) in; dx, dh0 and dc0 (0: not wanted) and the flat
  // weight gradients (f32 for half weights) written, overwriting. `x` is the forward's input.
  void cell_backward(CellStepSaved& saved, std::uintptr_t x, std::uintptr_t dh, std::uintptr_t dc, std::uintptr_t dx,
                     std::uintptr_t dh0, std::uintptr_t dc0, std::uintptr_t grads, int threads);

  // Runs `fn` (which must not touch Python objects) with the GIL released and the mutex held.
  template <class Fn>
  void run_without_gil(Fn&& fn) {
    py::gil_scoped_release no_gil;
    std::lock_guard<std::mutex> lock(mutex_);
    fn();
  }

 private:
  std::shared_ptr<Backend> backend_for(const std::string& device, int threads);
  // The backward shared by both paths; `consume_reserve` runs it on the saved reserve itself.
  Gradients run_backward(const SavedForward& saved, bool consume_reserve, py::handle dy,
                         py::handle dhn, py::handle dcn);

  std::shared_ptr<RNNWeights> weights_;
  // By thread count (0: the default), created on first use.
  std::map<int, std::shared_ptr<Backend>> backends_;
  std::map<int, std::unique_ptr<Backend>> cuda_backends_;  // by device index
  std::shared_ptr<const SavedForward> saved_;
  // cell_step's buffers by batch size (written under mutex_; allocated with the GIL held).
  struct StepBuffers {
    Tensor workspace, y;  // inference
    Tensor train_workspace;
  };
  StepBuffers& step_buffers(Backend& backend, std::int64_t batch, bool train);
  std::map<std::int64_t, StepBuffers> step_buffers_;
  std::mutex mutex_;
};

// Every parameter of `weights` by PyTorch name, as numpy views kept alive by `owner`.
py::dict parameter_arrays(RNNWeights& weights, py::handle owner);

// How many times weights_for made a private copy since import (the hook gpurnn.torch's
// zero-copy tests read).
std::size_t weight_copy_count();

// The devices this process can see: "cpu", then "cuda:N" for each CUDA device of a CUDA build.
std::vector<std::string> available_devices();

}  // namespace gpurnn::python
