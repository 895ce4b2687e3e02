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
//
// Mixed precision (issue 30): a layer whose compute dtype is bf16 or f16 keeps f32 weights and
// f32 gradients (the "master" copy: what parameter(), weights(), grads(), the optimizer and
// checkpoints see, in the same layout) and runs the backend in the half dtype: every forward
// rounds the weights to half afresh (the optimizer changes them in place between steps, so no
// copy outlives a call, except the training forward's, which its backward uses, and step()'s
// prepared snapshot, dropped as above), rounds x, h0, c0 to half and widens y, hn, cn back to
// f32; backward rounds dy, dhn, dcn to half, widens dx, dh0, dc0 back, and the backend writes the
// f32 weight gradients straight into grads() (the gradients of half weights are f32). The tensors
// the layer takes and returns are all in the weights' dtype either way.

#include <cstdint>
#include <memory>
#include <optional>
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
  // compute: the dtype the backend computes in (unset: `dtype`); bf16 or f16 with f32 weights is
  // mixed precision (above). Error(invalid_argument) naming 'compute' for another pairing;
  // Error(unsupported) when the backend cannot run the RNN in the compute dtype.
  RnnLayer(const RNNDescriptor& desc, DType dtype, const std::string& backend, std::uint64_t seed, int threads = 0,
           std::optional<DType> compute = std::nullopt);

  const RNNDescriptor& descriptor() const { return weights_.descriptor(); }
  Device device() const { return backend_->device(); }
  // The weights' (and gradients', inputs', outputs') dtype, and the backend calls' dtype.
  DType dtype() const { return weights_.dtype(); }
  DType compute_dtype() const { return compute_; }
  bool mixed_precision() const { return compute_ != weights_.dtype(); }
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
  // The prepared weights step() uses now, or null (see the top of this file); in the compute
  // dtype.
  const PreparedWeights* prepared_weights() const { return prepared_.get(); }

 private:
  Tensor& grown(Tensor& buffer, std::size_t bytes, void* stream);
  // Mixed precision: `t` rounded to the compute dtype, or widened back to the weights' (else `t`).
  Tensor in_compute(const Tensor& t) const;
  Tensor in_weights_dtype(const Tensor& t) const;
  // Mixed precision: `copy` (allocated on first use) := the weights rounded to the compute dtype.
  const RNNWeights& rounded_weights(RNNWeights& copy) const;
  // forward() on `prepared` when given, else on the weights.
  RnnStepOutput run_forward(const Tensor& x, const Tensor& lengths, const Tensor& h0, const Tensor& c0,
                            ForwardMode mode, std::uint64_t dropout_seed, void* stream, const PreparedWeights* prepared);

  std::unique_ptr<Backend> backend_;
  DType compute_ = DType::f32;
  RNNWeights weights_;
  RNNWeights grads_;
  // Mixed precision: the weights in the compute dtype, as the last training forward used them
  // (its backward uses the same), and for the other forwards.
  RNNWeights training_copy_, inference_copy_;
  std::shared_ptr<const PreparedWeights> prepared_;
  Tensor workspace_, reserve_;
  // Saved by the training forward (x_ in the compute dtype).
  Tensor x_, lengths_;
  SequenceShape shape_;
  bool saved_ = false;
};

}  // namespace gpurnn::train
