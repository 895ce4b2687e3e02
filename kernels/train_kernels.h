#pragma once
// Launchers of the training kernels (internal header): kernels/train_kernels.cu (element-wise:
// embedding, dropout, scale, optimizer updates) and kernels/train_reduce_kernels.cu (column sums,
// losses, sums of squares). Each takes raw device pointers and sizes, the stream last, queues
// its work there, checks the launch (check_launch) and does not synchronise. T is float or
// double. Every per-element formula is the one of the cpu TrainOps (src/cpu/cpu_train_ops.cpp),
// computed in double and rounded to T once, so the two devices differ only where the order of
// a sum differs (or by the fused multiply-adds nvcc forms).

#include <cuda_runtime.h>

#include <climits>
#include <cstdint>

#include "gpurnn/train/ops.h"

namespace gpurnn::cuda {

// ---- element-wise: kernels/train_kernels.cu ------------------------------------------------

// y[r, :] = table[ids[r], :] for r < rows; a row whose id is outside [0, vocab) is zeros.
template <class T>
void launch_embedding_gather(const T* table, const std::int32_t* ids, std::int64_t rows,
                             std::int64_t vocab, std::int64_t width, T* y, cudaStream_t stream);
// dtable[ids[r], :] += dy[r, :] for every r (atomics: not deterministic in the last bits); rows
// whose id is outside [0, vocab) are skipped. The caller zeroes dtable first to overwrite.
template <class T>
void launch_embedding_scatter_add(const std::int32_t* ids, const T* dy, std::int64_t rows,
                                  std::int64_t vocab, std::int64_t width, T* dtable,
                                  cudaStream_t stream);
// out[i] = in[i] * T(detail::dropout_scale(seed, stream_id, i, p)); out may be in.
template <class T>
void launch_dropout(const T* in, std::int64_t count, double p, std::uint64_t seed,
                    std::uint64_t stream_id, T* out, cudaStream_t stream);
// x[i] = T(double(x[i]) * factor)
template <class T>
void launch_scale(T* x, std::int64_t count, double factor, cudaStream_t stream);
// PyTorch's SGD (dampening 0); `momentum` is null when hyper.momentum is 0 (not touched).
template <class T>
void launch_sgd_update(T* param, const T* grad, T* momentum, std::int64_t count,
                       const train::SgdHyper& hyper, cudaStream_t stream);

// One Adam/AdamW step's scalars, computed on the host from AdamHyper as the cpu ops do.
struct AdamStep {
  double beta1 = 0.0, beta2 = 0.0, eps = 0.0, weight_decay = 0.0;
  bool decoupled = false;
  double step_size = 0.0;              // lr / (1 - beta1^step)
  double bias_correction2_sqrt = 0.0;  // sqrt(1 - beta2^step)
  double decay = 1.0;                  // 1 - lr*weight_decay for AdamW, else 1
};
template <class T>
void launch_adam_update(T* param, const T* grad, T* m, T* v, std::int64_t count,
                        const AdamStep& step, cudaStream_t stream);

// ---- reductions: kernels/train_reduce_kernels.cu -------------------------------------------

// A share of a loss (or of a sum of squares): one block's, or the whole call's.
struct ReducePartial {
  double sum;
  long long count;      // rows counted
  long long first_bad;  // the smallest row whose target is out of range; kNoBadRow if none
};
constexpr long long kNoBadRow = LLONG_MAX;
// The reduction kernels use at most this many blocks; a scratch buffer holds one partial per
// block followed by the total: kReduceScratchPartials ReducePartials, the total at the end.
constexpr int kMaxReduceBlocks = 1024;
constexpr int kReduceScratchPartials = kMaxReduceBlocks + 1;

// out[j] (+)= sum over r of rows[r, j], rows [n_rows, cols] with rows ld apart (ld >= cols);
// summed in double, in a fixed order (deterministic).
template <class T>
void launch_column_sums(const T* rows, std::int64_t n_rows, std::int64_t cols, std::int64_t ld, T* out,
                        bool accumulate, cudaStream_t stream);
// Softmax cross-entropy of logits [rows, classes] against targets [rows] (rows whose target is
// ignore_index skipped); dlogits (may be null) as TrainOps::softmax_cross_entropy documents,
// with zeros also in the rows of out-of-range targets. The total (sum, counted rows, first
// out-of-range row) lands in scratch[kMaxReduceBlocks].
template <class T>
void launch_softmax_cross_entropy(const T* logits, const std::int32_t* targets, std::int64_t rows,
                                  std::int64_t classes, std::int32_t ignore_index,
                                  double grad_scale, T* dlogits, ReducePartial* scratch,
                                  cudaStream_t stream);
// sum over r, c of mask[r] * (pred[r, c] - target[r, c])^2 and the count of rows with a non-zero
// mask; dpred[r, c] = T(grad_scale * 2 * mask[r] * diff). target null: zeros (a sum of squares);
// mask null: ones; dpred null: not written. The total lands in scratch[kMaxReduceBlocks].
template <class T>
void launch_squared_error(const T* pred, const T* target, const T* mask, std::int64_t rows,
                          std::int64_t cols, double grad_scale, T* dpred, ReducePartial* scratch,
                          cudaStream_t stream);

}  // namespace gpurnn::cuda
