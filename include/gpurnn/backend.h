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
// other output gradients); it leaves the forward's saved values unchanged. A call allocates nothing: all scratch memory comes from the
// caller's workspace. A CUDA backend queues its work on the call's stream and returns without
// waiting for it (except where a call must read device memory, said at the call); the caller
// keeps every buffer alive until the stream has done.
//
// Threads: one Backend may be called from several threads at once (the cpu backend keeps its
// packed weights per thread; a CUDA backend takes its cuBLAS/cuDNN handle per thread), provided
// the calls share no buffer they write: each concurrent call has its own workspace, reserve and
// outputs, and nobody changes the weights meanwhile. RNN (rnn.h) builds on this.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
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
  // have the weights' descriptor, dtype and device.
  virtual void backward_weights(const RNNWeights& weights, const BackwardWeightsArgs& args,
                                RNNWeights& grads) = 0;
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
