#pragma once
// The cudnn backend: gpurnn's Backend interface over cuDNN 9's RNN API (cudnnRNNForward,
// cudnnRNNBackwardData_v8, cudnnRNNBackwardWeights_v8), as the rival the cuda backend is
// measured against and a second GPU implementation to check it by.
//
// - Cells rnn_tanh, rnn_relu, lstm (with projection: standard algorithm only) and gru (cuDNN's
//   GRU is PyTorch's); rnn_sigmoid is refused. f32 (FMA math, no TF32) and f64;
//   bf16 and f16 (tensor-op math, f32 compute) for inference, the training forward and
//   backward_data, whichever algorithms cuDNN accepts in half (unsupported_reason asks it);
//   backward_weights of half weights is refused (the precision rule gives them f32 gradients,
//   cuDNN writes half ones).
// - Algorithms (make_backend("cudnn/<algo>")): standard (default), persist_static,
//   persist_static_small_h, persist_dynamic; what each refuses is in cudnn_rules.h, and
//   unsupported_reason also asks cuDNN to build the descriptor (persist_dynamic: and its plan).
//   persist_static_small_h and persist_dynamic refuse ragged batches, per call.
// - Weights: gpurnn's flat PyTorch-layout buffer is copied into cuDNN's weight space (inside the
//   workspace) on the call's stream at each forward and backward_data, and the weight gradients
//   back (added or written, per GradMode) at backward_weights; when cuDNN's layout coincides
//   with the flat buffer, the buffer is used as is and nothing is copied.
// - Ragged batches through RNN data descriptors' sequence lengths (padding in y and dx is 0);
//   batch_first through cuDNN's batch-major layout.
// - Inter-layer dropout: inference ignores it, as every backend does; a training forward with
//   dropout > 0 and more than one layer is refused with Error(unsupported), as are the training
//   size queries (cuDNN's mask is not gpurnn's counter-based mask; cudnn_rules.h).
// - The descriptors of a problem are built once and kept (persist_dynamic: per batch size, as
//   cudnnBuildRNNDynamic compiles its kernel for one).
// - backward_data and backward_weights read the reserve's header (and backward_weights the
//   lengths saved there) back to the host, so they wait for the stream's earlier work.
// - backward_data once per training forward: a second call on the same reserve is refused with
//   Error(unsupported) (cuDNN's backward data writes into the reserve it reads; cudnn_rules.h).

#include <memory>

#include "gpurnn/backend.h"

namespace gpurnn::cuda {

// Throws Error(unsupported) when the device does not exist or the algorithm is not offered.
std::unique_ptr<Backend> make_cudnn_backend(Device device, const BackendOptions& options);

}  // namespace gpurnn::cuda
