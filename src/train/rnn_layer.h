#pragma once
// The RNN stack as a training layer: a Backend, its weights and their gradients, and the
// workspace and reserve buffers, kept between steps (regrown only when a batch needs more).
// Backward adds into the gradients (GradMode::accumulate), like the other layers.
//
// A decoder's step() computes with prepared weights (backend.h PreparedWeights) where the
// backend packs these weights (Backend::prepare_packs), made by the first step and reused by the
// steps that follow it, so a decode of many steps packs W_hh once rather than once per token.
// Anything else drops them: forward() (training or a whole sequence, which packs for its own
// call as before), backward() (an optimizer step follows it), parameter() (the optimizer's and
// checkpoints' handle on the weights) and the non-const weights(). So the weights cannot change
// between two steps that share them except through a pointer kept from before the first
// (the finite-difference checks perturb weights that way, between whole-sequence forwards).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gpurnn/backend.h"
#include "gpurnn/train/layers.h"

namespace gpurnn::train {

struct RnnStepOutput {
  Tensor y;   // [T, B, H_out]
  Tensor hn;  // [L, B, H_out]
  Tensor cn;  // [L, B, H] (LSTM), else undefined
};

// What flows out of the layer backwards: the gradients of its input and initial states. (Unlike
// the public RNNGradients it holds no weight gradients: those accumulate into grads().)
struct RnnInputGradients {
  Tensor dx;   // [T, B, I] (undefined when not wanted)
  Tensor dh0;  // [L, B, H_out] (undefined when not wanted)
  Tensor dc0;  // [L, B, H] (LSTM, when dh0 is wanted)
};

class RnnLayer {
 public:
  // threads: the cpu backend's thread count (BackendOptions::num_threads; 0: the library default).
  RnnLayer(const RNNDescriptor& desc, DType dtype, const std::string& backend, std::uint64_t seed, int threads = 0);

  const RNNDescriptor& descriptor() const { return weights_.descriptor(); }
  Device device() const { return backend_->device(); }
  RNNWeights& weights() {
    prepared_.reset();
    return weights_;
  }
  const RNNWeights& weights() const { return weights_; }
  RNNWeights& grads() { return grads_; }

  // x [T, B, I]; lengths i32 [B] on the host (may be undefined: all T); h0/c0 may be
  // undefined (zeros). Training keeps what backward needs until the next training forward.
  RnnStepOutput forward(const Tensor& x, const Tensor& lengths, const Tensor& h0, const Tensor& c0,
                        ForwardMode mode, std::uint64_t dropout_seed, void* stream);
  // Gradient of the last training forward: dy [T, B, H_out] or undefined (zeros), dhn undefined
  // or [L, B, H_out]. Adds the weight gradients; returns dx (undefined when !want_dx).
  Tensor backward(const Tensor& dy, const Tensor& dhn, bool want_dx, void* stream);
  // The same, with the gradient of cn (LSTM; undefined: zeros) and, when want_initial, the
  // gradients of h0 and c0 (for an encoder whose final state starts a decoder).
  RnnInputGradients backward(const Tensor& dy, const Tensor& dhn, const Tensor& dcn, bool want_dx, bool want_initial,
                        void* stream);

  // One inference step of every layer (a decoder's step): x [B, I], h/c [L, B, *] (undefined:
  // zeros) -> y [B, H_out] and the new h, c. A sequence of length one through the backend, so
  // decoding costs one step per token, never a replay of the prefix.
  RnnStepOutput step(const Tensor& x, const Tensor& h, const Tensor& c, void* stream);

  // Parameter "<prefix>" over the whole flat buffer (the optimizer's unit) ...; drops the
  // prepared weights, since the caller may change the weights through it.
  Parameter parameter(const std::string& name);
  // The prepared weights step() uses now, or null (see the top of this file).
  const PreparedWeights* prepared_weights() const { return prepared_.get(); }

 private:
  Tensor& grown(Tensor& buffer, std::size_t bytes, void* stream);
  // forward() on `prepared` when given, else on the weights.
  RnnStepOutput run_forward(const Tensor& x, const Tensor& lengths, const Tensor& h0, const Tensor& c0,
                            ForwardMode mode, std::uint64_t dropout_seed, void* stream, const PreparedWeights* prepared);

  std::unique_ptr<Backend> backend_;
  RNNWeights weights_;
  RNNWeights grads_;
  std::shared_ptr<const PreparedWeights> prepared_;
  Tensor workspace_, reserve_;
  // Saved by the training forward.
  Tensor x_, lengths_;
  SequenceShape shape_;
  bool saved_ = false;
};

}  // namespace gpurnn::train
