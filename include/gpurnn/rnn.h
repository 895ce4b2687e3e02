#pragma once
// A convenience module over a Backend: owns the weights, allocates outputs, workspace and
// reserve, and remembers what a training forward saved so backward() needs only the output
// gradients. For full control over memory, use Backend directly (backend.h).
//
// Threads. forward() (inference) may be called by any number of threads at once on one RNN, as
// long as none changes the weights meanwhile; each call allocates its own buffers. Training is
// one thread's at a time: forward_train() and backward() keep the saved pass in the RNN, so
//   - a forward_train() or backward() while another thread is inside either throws
//     Error(invalid_argument) naming the RNN instead of racing on the saved pass, and
//   - backward() uses the last forward_train() only if the same thread made it; after another
//     thread's forward_train() it throws rather than return the gradients of someone else's pass.
// To train from several threads, give each thread its own RNN (weights can be copied).
//
// Prepared weights. Where the backend packs weights ahead of its calls (Backend::prepare_packs:
// the cpu backend in f32 with oneDNN), forward() computes with a prepared snapshot of the
// weights (backend.h PreparedWeights), made by the first forward() and reused by the next ones,
// so a server's repeated calls pack W_hh once, not once per call. The snapshot is dropped, and
// the next forward() prepares the weights again, by:
//   - every call of the non-const weights() (it hands out a reference through which the
//     weights may change), forward_train() and backward() (an optimizer step follows them), and
//   - weights_changed().
// The caller's contract: after changing the weights through a reference, view or Tensor kept
// from an earlier weights() call (a copy of weights().flat() shares its memory), call
// weights_changed(); forward() would otherwise keep computing with the snapshot, i.e. with the
// weights as they were. Training forwards and backward always read the weights themselves.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "gpurnn/backend.h"

namespace gpurnn {

// Optional inputs of a forward call (undefined tensors are omitted).
struct SequenceInputs {
  Tensor lengths;  // int32 [B], each in [1, T]
  Tensor h0;       // [L*D, B, H_out]
  Tensor c0;       // [L*D, B, H], LSTM only
  bool batch_first = false;
};

struct RNNOutput {
  Tensor y;   // [T, B, D*H_out] (or [B, T, D*H_out] when batch_first)
  Tensor hn;  // [L*D, B, H_out]
  Tensor cn;  // [L*D, B, H], LSTM only (undefined otherwise)
};

struct RNNGradients {
  Tensor dx;            // like x
  Tensor dh0;           // [L*D, B, H_out]
  Tensor dc0;           // [L*D, B, H], LSTM only
  RNNWeights dweights;  // gradient of every parameter (f32 for bf16 or f16 weights)
};

class RNN {
 public:
  // Weights are initialised as PyTorch does (uniform ±1/sqrt(H)) from `seed`.
  RNN(const RNNDescriptor& desc, DType dtype = DType::f32, const std::string& backend = "cpu",
      std::uint64_t seed = 0);
  // Takes existing weights (e.g. from io::load_rnn); they must be on the backend's device.
  // `options` go to make_backend (e.g. num_threads).
  explicit RNN(RNNWeights weights, const std::string& backend = "cpu", const BackendOptions& options = {});

  const RNNDescriptor& descriptor() const { return weights_.descriptor(); }
  // Drops the prepared snapshot (see Prepared weights above) and gives the weights to change.
  RNNWeights& weights();
  const RNNWeights& weights() const { return weights_; }
  Backend& backend() { return *backend_; }
  // Says that the weights changed through something kept from an earlier weights() call: the
  // next forward() prepares them again.
  void weights_changed();
  // The snapshot forward() computes with now, or null (none made yet, dropped since, or a
  // backend that does not pack these weights: Backend::prepare_packs).
  std::shared_ptr<const PreparedWeights> prepared_weights() const;

  // Inference: no dropout, nothing saved.
  RNNOutput forward(const Tensor& x, const SequenceInputs& inputs = {});
  // Training forward: applies dropout (mask drawn from `dropout_seed`) and keeps what
  // backward() needs, until the next forward_train() (by this thread; see Threads above).
  RNNOutput forward_train(const Tensor& x, const SequenceInputs& inputs = {},
                          std::uint64_t dropout_seed = 0);
  // Gradients of the last forward_train(), which this thread must have made; dhn and dcn may be
  // undefined (zeros).
  RNNGradients backward(const Tensor& dy, const Tensor& dhn = {}, const Tensor& dcn = {});

 private:
  RNNOutput run_forward(const Tensor& x, const SequenceInputs& inputs, ForwardMode mode,
                        std::uint64_t dropout_seed);
  // The prepared snapshot for an inference forward, made now when there is none; null when the
  // backend does not pack.
  std::shared_ptr<const PreparedWeights> prepared_for_inference();

  RNNWeights weights_;
  std::unique_ptr<Backend> backend_;
  // Saved by forward_train for backward.
  Tensor saved_x_;
  SequenceInputs saved_inputs_;
  Tensor reserve_;
  bool has_saved_ = false;
  std::thread::id saved_by_;  // the thread whose forward_train() is saved
  // Held by forward_train() and backward() for their whole call (a pointer: RNN stays movable).
  std::unique_ptr<std::mutex> training_ = std::make_unique<std::mutex>();
  // The prepared snapshot, made and read by concurrent inference forwards under prepared_mutex_.
  std::shared_ptr<const PreparedWeights> prepared_;
  std::unique_ptr<std::mutex> prepared_mutex_ = std::make_unique<std::mutex>();
};

}  // namespace gpurnn
