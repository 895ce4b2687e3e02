#pragma once
// One interface for every backend (cpu now; cuda and cudnn later).
//
// Shapes (T = time steps, B = batch, I = input features, H = hidden units, H_out = state_size(),
// L = layers, D = directions; rightmost dimension fastest):
//   x  [T, B, I]            or [B, T, I] with batch_first
//   y  [T, B, D*H_out]      or [B, T, D*H_out] with batch_first; zero past a sequence's length
//   h0, hn  [L*D, B, H_out]     index l*D + d, d = 1 the reverse direction
//   c0, cn  [L*D, B, H]         LSTM only
//   lengths int32 [B] on the CPU, each in [1, T], any order; omitted = every sequence has T steps.
//     A sequence's final state is its state after its last valid step (packed-sequence semantics).
// An argument a call writes may not alias any other argument (read-only inputs may share
// memory, e.g. the same array as h0 and c0). Optional arguments are passed as empty views.
//
// The lifecycle: supports() → workspace_size() / reserve_size() → forward(training) →
// backward_data() → backward_weights(). backward_data reads the reserve that forward filled
// and writes into it what backward_weights needs, so they are called in that order, with the
// same reserve, lengths and shapes. backward_data may be called again on the same reserve (with
// other output gradients); it leaves the forward's saved values unchanged, so a second call with
// the same arguments gives the same results, bit for bit. The one exception is the cudnn backend,
// which refuses a second call with Error(unsupported) (cuDNN's backward data writes into the
// reserve it reads, with no promise that the forward's values survive; run the forward again). A call allocates nothing: all scratch memory
// comes from the caller's workspace. A CUDA backend queues its work on the call's stream and returns without
// waiting for it (except where a call must read device memory, said at the call); the caller
// keeps every buffer alive until the stream has done.
//
// Threads: one Backend may be called from several threads at once (the cpu backend keeps its
// packed weights per thread; a CUDA backend takes its cuBLAS/cuDNN handle per thread), provided
// the calls share no buffer they write: each concurrent call has its own workspace, reserve and
// outputs, and nobody changes the weights meanwhile. RNN (rnn.h) builds on this.
//
// Prepared weights: forward and backward_data given RNNWeights lay the weights out for their
// GEMMs inside each call (the cpu backend packs W_hh and W_hr for oneDNN, per layer call).
// prepare(weights) does that once: calls given the PreparedWeights reuse the packed forms for as
// long as the object lives. See PreparedWeights for what it holds and when to prepare again.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gpurnn/rnn_weights.h"
#include "gpurnn/tensor.h"

namespace gpurnn {

enum class ForwardMode {
  inference,  // nothing saved
  training,   // saves what backward needs in the reserve; applies dropout
};

enum class GradMode {
  overwrite,   // weight gradients = this call's gradients
  accumulate,  // weight gradients += this call's gradients
};

// What workspace and reserve sizes depend on besides the descriptor and dtype.
struct SequenceShape {
  std::int64_t seq_len = 0;  // T
  std::int64_t batch = 0;    // B
  bool batch_first = false;
};

struct ForwardArgs {
  ForwardMode mode = ForwardMode::inference;
  bool batch_first = false;
  ConstTensorView x;
  ConstTensorView lengths;  // optional
  ConstTensorView h0;       // optional; zeros when omitted
  ConstTensorView c0;       // optional, LSTM only; zeros when omitted
  TensorView y;
  TensorView hn;            // optional
  TensorView cn;            // optional, LSTM only
  TensorView workspace;     // at least workspace_size(...) bytes
  TensorView reserve;       // training only: at least reserve_size(...) bytes
  std::uint64_t dropout_seed = 0;  // training with dropout: the mask is a function of the seed
  void* stream = nullptr;          // cudaStream_t for a CUDA backend (null: the default
                                   // stream); the cpu backend ignores it
};

struct BackwardDataArgs {
  bool batch_first = false;
  ConstTensorView lengths;  // the same as in forward
  ConstTensorView dy;       // gradient of y, same shape as y
  ConstTensorView dhn;      // optional gradient of hn; zeros when omitted
  ConstTensorView dcn;      // optional gradient of cn (LSTM); zeros when omitted
  TensorView dx;            // written entirely
  TensorView dh0;           // optional
  TensorView dc0;           // optional, LSTM only
  TensorView workspace;     // at least workspace_size(..., training) bytes
  TensorView reserve;       // filled by forward(training); updated for backward_weights
  void* stream = nullptr;   // as in ForwardArgs
};

struct BackwardWeightsArgs {
  bool batch_first = false;
  ConstTensorView x;          // the forward input
  TensorView workspace;       // at least workspace_size(..., training) bytes
  ConstTensorView reserve;    // after backward_data
  GradMode grad_mode = GradMode::overwrite;
  void* stream = nullptr;     // as in ForwardArgs
};

// Weights prepared by a Backend (Backend::prepare) for many calls: a snapshot of the
// parameters, copied when prepared, and the layouts the backend's GEMMs want, made from the
// snapshot on first use and kept (the cpu backend: W_hh and W_hr packed for oneDNN's matmul, per
// batch size).
//
// The contract: a call given prepared weights computes with the snapshot, bit for bit what the
// same call given the weights it was made from, as they were when prepared, computes (the cpu
// backend multiplies by the same packed layouts either way). It holds no pointer
// into those weights: changing them afterwards (an optimizer step, a load) does not reach the
// prepared weights, which keep computing with the old values; prepare again to use the new
// ones, and drop the old object to free its memory. The weights it was made from may be
// destroyed. Several threads may call with one PreparedWeights at once.
//
// Memory: one copy of the parameters (weights().numel() elements) plus packed_bytes().
class PreparedWeights {
 public:
  virtual ~PreparedWeights() = default;
  PreparedWeights(const PreparedWeights&) = delete;
  PreparedWeights& operator=(const PreparedWeights&) = delete;

  // The snapshot: what every call given these prepared weights computes with.
  const RNNWeights& weights() const { return snapshot_; }
  const RNNDescriptor& descriptor() const { return snapshot_.descriptor(); }
  DType dtype() const { return snapshot_.dtype(); }
  Device device() const { return snapshot_.device(); }
  // The backend that prepared them (Backend::name()); only a backend of that kind takes them.
  const std::string& backend_name() const { return backend_name_; }
  // Bytes held in packed layouts so far (0 for a backend that computes on the snapshot as it is).
  virtual std::size_t packed_bytes() const { return 0; }

 protected:
  PreparedWeights(RNNWeights snapshot, std::string backend_name)
      : snapshot_(std::move(snapshot)), backend_name_(std::move(backend_name)) {}

 private:
  RNNWeights snapshot_;
  std::string backend_name_;
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual std::string name() const = 0;  // "cpu"
  virtual Device device() const = 0;
  // Why this backend cannot run `desc` in `dtype`, or nullopt when it can.
  virtual std::optional<std::string> unsupported_reason(const RNNDescriptor& desc,
                                                        DType dtype) const = 0;
  bool supports(const RNNDescriptor& desc, DType dtype) const {
    return !unsupported_reason(desc, dtype).has_value();
  }

  // Scratch bytes for one call; in training mode enough for forward and both backward calls.
  virtual std::size_t workspace_size(const RNNDescriptor& desc, const SequenceShape& shape,
                                     DType dtype, ForwardMode mode) const = 0;
  // Bytes a training forward saves for backward.
  virtual std::size_t reserve_size(const RNNDescriptor& desc, const SequenceShape& shape,
                                   DType dtype) const = 0;

  virtual void forward(const RNNWeights& weights, const ForwardArgs& args) = 0;
  virtual void backward_data(const RNNWeights& weights, const BackwardDataArgs& args) = 0;
  // Writes or adds (args.grad_mode) the gradient of every parameter into `grads`, which must
  // have the weights' descriptor, dtype and device; the gradients of bf16 or f16 weights are f32
  // (the README's precision rule).
  virtual void backward_weights(const RNNWeights& weights, const BackwardWeightsArgs& args,
                                RNNWeights& grads) = 0;

  // A snapshot of `weights` prepared for this backend's calls (see PreparedWeights). Error
  // (invalid_argument) naming 'weights' when they are empty or on another device; Error
  // (unsupported) when this backend cannot run their descriptor and dtype.
  virtual std::shared_ptr<const PreparedWeights> prepare(const RNNWeights& weights) const;
  // Whether prepare() lays anything out ahead of the calls (packs weights) for weights of
  // `dtype` in this build; when false a PreparedWeights is only a snapshot, and calls with it
  // cost what calls with the weights cost (RNN then does not keep one).
  virtual bool prepare_packs(DType dtype) const {
    (void)dtype;
    return false;
  }
  // The calls above on prepared weights, with the same arguments and results as on
  // weights.weights(). Error(invalid_argument) naming 'weights' when another kind of backend
  // prepared them (PreparedWeights::backend_name()).
  virtual void forward(const PreparedWeights& weights, const ForwardArgs& args);
  virtual void backward_data(const PreparedWeights& weights, const BackwardDataArgs& args);
  void backward_weights(const PreparedWeights& weights, const BackwardWeightsArgs& args, RNNWeights& grads) {
    backward_weights(weights.weights(), args, grads);
  }
};

struct BackendOptions {
  int num_threads = 0;    // CPU threads for BLAS and pointwise work; 0 = the library default
  std::string algorithm;  // one of backend_algorithms(name); empty = the backend's default.
                          // Also given in the name: make_backend("cudnn/persist_static").
};

// "cpu" (always available), "cuda[:N]", "cudnn[:N]", optionally "<name>/<algorithm>". Throws
// Error(unsupported) naming the backends this build has, or the algorithms a backend offers.
std::unique_ptr<Backend> make_backend(const std::string& name, const BackendOptions& options = {});
// Names of the backends this build offers on this machine.
std::vector<std::string> available_backends();
// The algorithms `backend` offers in this build, the default first; empty for an unknown name
// or a backend this build lacks.
std::vector<std::string> backend_algorithms(const std::string& backend);

}  // namespace gpurnn
