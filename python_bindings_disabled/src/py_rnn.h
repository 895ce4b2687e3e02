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

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "array_conversion.h"
#include "gpurnn/backend.h"

namespace gpurnn::python {

struct ForwardCall {
  py::handle x, lengths, h0, c0;
  bool batch_first = false;
  std::string device = "auto";
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

class PyRNN {
 public:
  explicit PyRNN(RNNWeights weights);

  const RNNDescriptor& descriptor() const { return weights_.descriptor(); }
  DType dtype() const { return weights_.dtype(); }
  RNNWeights& weights() { return weights_; }
  const RNNWeights& weights() const { return weights_; }

  ForwardResult forward(const ForwardCall& call);
  Gradients backward(py::handle dy, py::handle dhn, py::handle dcn);
  bool has_saved_forward() const { return saved_.has_value(); }

  // Runs `fn` (which must not touch Python objects) with the GIL released and the mutex held.
  template <class Fn>
  void run_without_gil(Fn&& fn) {
    py::gil_scoped_release no_gil;
    std::lock_guard<std::mutex> lock(mutex_);
    fn();
  }

 private:
  // What a training forward keeps for backward.
  struct Saved {
    Backend* backend = nullptr;
    InputArray x;          // the caller's array, referenced, not copied
    InputArray lengths;
    bool batch_first = false;
    bool unbatched = false;
    Tensor reserve;
  };

  Backend& backend_for(const std::string& device);

  RNNWeights weights_;
  std::map<std::string, std::unique_ptr<Backend>> backends_;  // by name, created on first use
  std::optional<Saved> saved_;
  std::mutex mutex_;
};

// Every parameter of `weights` by PyTorch name, as numpy views kept alive by `owner`.
py::dict parameter_arrays(RNNWeights& weights, py::handle owner);

// The devices this process can see: "cpu", then "cuda:N" for each CUDA device of a CUDA build.
std::vector<std::string> available_devices();

}  // namespace gpurnn::python
