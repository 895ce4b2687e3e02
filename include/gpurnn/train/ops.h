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
// Threads: a TrainOps, like the model that owns it, is used by one thread at a time (set_stream
// changes state every later call reads); train two models on two threads with two TrainOps.

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

  // --- Attention (gpurnn/train/attention.h). Every tensor is time-major like the RNN's:
  // queries [T, B, D] (T decoder steps), memory rows [S, B, D] (S source positions), scores and
  // weights [T, B, S]. Batch row b only ever meets batch row b.

  // scores[t, b, s] = sum_d query[t, b, d] * keys[s, b, d]
  virtual void attention_scores(ConstTensorView query, ConstTensorView keys, TensorView scores) = 0;
  // dquery[t, b, :] (+)= sum_s dscores[t, b, s] * keys[s, b, :];
  // dkeys[s, b, :] (+)= sum_t dscores[t, b, s] * query[t, b, :]   (either may be empty: not wanted)
  virtual void attention_scores_backward(ConstTensorView query, ConstTensorView keys, ConstTensorView dscores,
                                         TensorView dquery, TensorView dkeys, bool accumulate) = 0;
  // context[t, b, :] = sum_s weights[t, b, s] * values[s, b, :]   (values [S, B, D], context [T, B, D])
  virtual void attention_context(ConstTensorView weights, ConstTensorView values, TensorView context) = 0;
  // dweights[t, b, s] = dcontext[t, b, :] . values[s, b, :] (always overwritten; may be empty);
  // dvalues[s, b, :] (+)= sum_t weights[t, b, s] * dcontext[t, b, :] (may be empty)
  virtual void attention_context_backward(ConstTensorView weights, ConstTensorView values, ConstTensorView dcontext,
                                          TensorView dweights, TensorView dvalues, bool accumulate) = 0;
  // Bahdanau's additive score: scores[t, b, s] = sum_a v[a] * tanh(keys[s, b, a] + query[t, b, a]),
  // query [T, B, A], keys [S, B, A], v [A].
  virtual void additive_scores(ConstTensorView query, ConstTensorView keys, ConstTensorView v, TensorView scores) = 0;
  // With g = dscores[t, b, s] * v[a] * (1 - tanh(...)^2): dquery[t, b, a] (+)= sum_s g;
  // dkeys[s, b, a] (+)= sum_t g; dv[a] (+)= sum_{t, b, s} dscores[t, b, s] * tanh(...).
  // Any of dquery, dkeys, dv may be empty (not wanted). The tanh is recomputed, not stored.
  virtual void additive_scores_backward(ConstTensorView query, ConstTensorView keys, ConstTensorView v,
                                        ConstTensorView dscores, TensorView dquery, TensorView dkeys, TensorView dv,
                                        bool accumulate) = 0;
  // In place on scores [T, B, S]: -infinity where s >= lengths[b] (lengths i32 [B]; may be empty:
  // all S) or where excluded[t, b, s] != 0 (excluded u8 [T, B, S]; may be empty: none). A length
  // outside [1, S] is Error(invalid_argument) on cpu.
  virtual void mask_scores(TensorView scores, ConstTensorView lengths, ConstTensorView excluded) = 0;
  // y[n, :] = softmax(x[n, :]) over the last dimension of x [N, S] (entries of -infinity get 0; a
  // row that is all -infinity gives zeros). y may alias x.
  virtual void softmax(ConstTensorView x, TensorView y) = 0;
  // dx[n, :] = y[n, :] * (dy[n, :] - sum_s dy[n, s] * y[n, s])   (dx may alias dy)
  virtual void softmax_backward(ConstTensorView y, ConstTensorView dy, TensorView dx) = 0;
  // y = tanh(x) elementwise (y may alias x)
  virtual void tanh_forward(ConstTensorView x, TensorView y) = 0;
  // dx = dy * (1 - y^2) (dx may alias dy)
  virtual void tanh_backward(ConstTensorView y, ConstTensorView dy, TensorView dx) = 0;
  // y += alpha * x (same shape)
  virtual void add_scaled(ConstTensorView x, double alpha, TensorView y) = 0;

  // Sum of squares of every element (for global-norm clipping), in double.
  virtual double sum_squares(ConstTensorView x) = 0;
  // x *= factor
  virtual void scale(TensorView x, double factor) = 0;
  // dst = src (same dtype and element count), ordered on the ops' stream with the calls around
  // it; each of src and dst is on device() or on the host. A host dst: the call waits for it.
  virtual void copy(ConstTensorView src, TensorView dst) = 0;
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
