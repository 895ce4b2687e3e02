#pragma once
// The device kernels of the training layers, losses and optimizers: one implementation per
// device (cpu: loops and OpenBLAS; cuda: cuBLAS and kernels/train_kernels.cu). Every layer of
// gpurnn/train is written once over this interface, and the cuda implementation is checked
// against the cpu one by tests/gpu.
//
// Conventions for every call:
//   - tensors are dense row-major views on device(); floating tensors all share one dtype
//     (f32 or f64), index tensors are i32;
//   - "(+)=" outputs are overwritten, or added to when `accumulate` is true;
//   - an empty view marks an optional output that is not wanted (documented per call);
//   - shapes are checked and a mismatch is Error(invalid_argument) naming the argument;
//   - calls are ordered on the ops' stream (set_stream); calls that return a host value
//     (losses, sum_squares) wait for it.

#include <cstdint>
#include <memory>

#include "gpurnn/tensor.h"

namespace gpurnn::train {

// Sum of a loss over the counted elements, and how many were counted (rows for cross-entropy
// with ignored targets skipped; rows with a non-zero mask for MSE).
struct LossSum {
  double sum = 0.0;
  std::int64_t count = 0;
};

struct SgdHyper {
  double lr = 0.0;
  double momentum = 0.0;      // 0: plain SGD (the momentum buffer is not touched)
  double weight_decay = 0.0;  // L2, added to the gradient (PyTorch SGD semantics)
  bool nesterov = false;
};

struct AdamHyper {
  double lr = 0.0;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool decoupled = false;  // true: AdamW (param *= 1 - lr*wd); false: Adam (grad += wd*param)
  std::int64_t step = 1;   // 1-based step count, for the bias corrections
};

class TrainOps {
 public:
  virtual ~TrainOps() = default;
  virtual Device device() const = 0;
  // cudaStream_t for cuda (null: the legacy default stream); ignored by cpu.
  virtual void set_stream(void* stream) = 0;

  // y[N, out] = x[N, in] · w[out, in]^T + b[out]   (b may be empty: no bias)
  virtual void linear_forward(ConstTensorView x, ConstTensorView w, ConstTensorView b, TensorView y) = 0;
  // dx[N, in] = dy · w (dx may be empty: not wanted; always overwritten);
  // dw[out, in] (+)= dy^T · x;  db[out] (+)= column sums of dy (db may be empty)
  virtual void linear_backward(ConstTensorView x, ConstTensorView w, ConstTensorView dy, TensorView dx,
                               TensorView dw, TensorView db, bool accumulate) = 0;

  // y[n, :] = table[ids[n], :]; ids i32 [N] in [0, V), table [V, E], y [N, E]. An id out of
  // range is Error(invalid_argument) on cpu; on cuda its row of y is zeros (checked by callers
  // on the host before upload).
  virtual void embedding_forward(ConstTensorView table, ConstTensorView ids, TensorView y) = 0;
  // dtable[V, E] (+)= sum over n with ids[n] == v of dy[n, :]
  virtual void embedding_backward(ConstTensorView ids, ConstTensorView dy, TensorView dtable,
                                  bool accumulate) = 0;

  // y[i] = x[i] * detail::dropout_scale(seed, stream_id, i, p) (inverted dropout; p in [0, 1)),
  // multiplied in the tensor's dtype T as x[i] * T(scale), as the RNN backends' inter-layer
  // dropout does, so every device gives the same bits. i is the flat (row-major) element index.
  // The mask is a function of (seed, stream_id, i) only, so backward recomputes it.
  virtual void dropout_forward(ConstTensorView x, double p, std::uint64_t seed, std::uint64_t stream_id,
                               TensorView y) = 0;
  // dx[i] = dy[i] * the same scale as dropout_forward (dx may alias dy).
  virtual void dropout_backward(ConstTensorView dy, double p, std::uint64_t seed, std::uint64_t stream_id,
                                TensorView dx) = 0;

  // Softmax cross-entropy of logits[N, V] against targets i32 [N] in [0, V), rows whose target
  // is `ignore_index` skipped. Returns the summed loss and the counted rows; writes
  // dlogits[N, V] = grad_scale * (softmax(logits) - onehot(target)) for counted rows and 0 for
  // ignored ones (dlogits may be empty: evaluation). A target out of range that is not
  // ignore_index is Error(invalid_argument).
  virtual LossSum softmax_cross_entropy(ConstTensorView logits, ConstTensorView targets,
                                        std::int32_t ignore_index, double grad_scale,
                                        TensorView dlogits) = 0;
  // Squared error of pred[N, D] against target[N, D], rows weighted by mask[N] (may be empty:
  // all ones; the mask has the floating dtype). Returns sum of mask[n]*(pred-target)^2 and the
  // count of rows with a non-zero mask; dpred = grad_scale * 2 * mask[n] * (pred - target)
  // (may be empty).
  virtual LossSum mean_squared_error(ConstTensorView pred, ConstTensorView target, ConstTensorView mask,
                                     double grad_scale, TensorView dpred) = 0;

  // Sum of squares of every element (for global-norm clipping), in double.
  virtual double sum_squares(ConstTensorView x) = 0;
  // x *= factor
  virtual void scale(TensorView x, double factor) = 0;
  // One fused update per parameter tensor. `momentum` (SGD) and `m`, `v` (Adam) are state
  // tensors shaped like the parameter, zero-initialised by the caller; `momentum` may be empty
  // when hyper.momentum is 0. cpu computes each element in double and rounds the results to T.
  virtual void sgd_update(TensorView param, ConstTensorView grad, TensorView momentum,
                          const SgdHyper& hyper) = 0;
  virtual void adam_update(TensorView param, ConstTensorView grad, TensorView m, TensorView v,
                           const AdamHyper& hyper) = 0;
};

// Ops for `device` ("cpu", or "cuda:N" in a build with CUDA; Error(unsupported) otherwise).
std::unique_ptr<TrainOps> make_train_ops(Device device);

}  // namespace gpurnn::train
