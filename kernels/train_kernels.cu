// Element-wise kernels of the training layers and optimizers: embedding gather and scatter,
// dropout, scaling, and the fused SGD and Adam/AdamW updates (launchers: train_kernels.h).
//
// Launch shape: 1-D grids of ceil(n / 256) blocks of 256 threads (kernels/launch_linear.cuh);
// each thread owns the one element named in its kernel's comment. No shared memory. Every
// kernel here is deterministic except embedding_scatter_add_kernel (atomics).
//
// Arithmetic mirrors the cpu TrainOps: each element's value is computed in double and rounded
// to T once, so f32 results match the cpu ones except where nvcc's fused multiply-adds round a
// double intermediate differently.

#include <cstdint>

#include "train_kernels.h"
#include "gpurnn/detail/counter_random.h"
#include "launch_linear.cuh"

namespace gpurnn::cuda {
namespace {

// Grid: rows*width threads; thread (r, e) (e fastest, so a warp reads 32 consecutive values of
// one table row) writes y[r, e] = table[ids[r], e], or 0 when ids[r] is outside [0, vocab).
template <class T>
__global__ void embedding_gather_kernel(const T* table, const std::int32_t* ids, std::int64_t rows,
                                        std::int64_t vocab, std::int64_t width, T* y) {
  std::int64_t r = 0, e = 0;
  if (!kernels::row_and_col(global_index(), rows, width, &r, &e)) return;
  const std::int32_t id = ids[r];
  y[r * width + e] = (id >= 0 && id < vocab) ? table[static_cast<std::int64_t>(id) * width + e] : T(0);
}

// Grid: rows*width threads; thread (r, e) adds dy[r, e] to dtable[ids[r], e] with atomicAdd
// (ids outside [0, vocab) are skipped). Rows that share an id add into the same elements in an
// order that varies from run to run, so the result is NOT deterministic: in f32 (and, more
// rarely, f64) the last bits of such elements can differ between runs and from the cpu result.
// atomicAdd on double needs sm_60 or newer (this project builds sm_80 and sm_90).
template <class T>
__global__ void embedding_scatter_add_kernel(const std::int32_t* ids, const T* dy, std::int64_t rows,
                                             std::int64_t vocab, std::int64_t width, T* dtable) {
  std::int64_t r = 0, e = 0;
  if (!kernels::row_and_col(global_index(), rows, width, &r, &e)) return;
  const std::int32_t id = ids[r];
  if (id < 0 || id >= vocab) return;
  atomicAdd(dtable + static_cast<std::int64_t>(id) * width + e, dy[r * width + e]);
}

// Grid: count threads; thread i writes out[i] = in[i] * T(dropout_scale(seed, stream_id, i, p)),
// the mask element the cpu draws for index i (gpurnn/detail/counter_random.h). Each thread reads
// its element before writing it, so out may be in.
template <class T>
__global__ void dropout_apply_kernel(const T* in, std::int64_t count, double p, std::uint64_t seed,
                                     std::uint64_t stream_id, T* out) {
  const std::int64_t i = global_index();
  if (i >= count) return;
  out[i] = in[i] * static_cast<T>(detail::dropout_scale(seed, stream_id, static_cast<std::uint64_t>(i), p));
}

// Grid: count threads; thread i writes x[i] = T(double(x[i]) * factor).
template <class T>
__global__ void scale_kernel(T* x, std::int64_t count, double factor) {
  const std::int64_t i = global_index();
  if (i < count) x[i] = static_cast<T>(static_cast<double>(x[i]) * factor);
}

// Grid: count threads; thread i updates param[i] (and momentum[i]) as PyTorch's SGD with
// dampening 0: g = grad + wd*param; with momentum, buf = momentum*buf + g (buf starts at zero,
// so the first step gives buf = g) and g = nesterov ? g + momentum*buf : buf; param -= lr*g.
// momentum is null when hyper.momentum is 0.
template <class T>
__global__ void sgd_update_kernel(T* param, const T* grad, T* momentum, std::int64_t count,
                                  train::SgdHyper hyper) {
  const std::int64_t i = global_index();
  if (i >= count) return;
  const double p = static_cast<double>(param[i]);
  double g = static_cast<double>(grad[i]) + hyper.weight_decay * p;
  if (momentum != nullptr) {
    const double buf = hyper.momentum * static_cast<double>(momentum[i]) + g;
    momentum[i] = static_cast<T>(buf);
    g = hyper.nesterov ? g + hyper.momentum * buf : buf;
  }
  param[i] = static_cast<T>(p - hyper.lr * g);
}

// Grid: count threads; thread i updates param[i], m[i], v[i] as PyTorch's Adam (weight decay
// added to the gradient) or AdamW (param scaled by 1 - lr*wd first):
// m = b1*m + (1-b1)*g, v = b2*v + (1-b2)*g^2, param -= step_size*m / (sqrt(v)/sqrt(bc2) + eps).
template <class T>
__global__ void adam_update_kernel(T* param, const T* grad, T* m, T* v, std::int64_t count,
                                   AdamStep step) {
  const std::int64_t i = global_index();
  if (i >= count) return;
  double p = static_cast<double>(param[i]);
  double g = static_cast<double>(grad[i]);
  if (step.decoupled) {
    p *= step.decay;
  } else {
    g += step.weight_decay * p;
  }
  const double mi = step.beta1 * static_cast<double>(m[i]) + (1.0 - step.beta1) * g;
  const double vi = step.beta2 * static_cast<double>(v[i]) + (1.0 - step.beta2) * g * g;
  m[i] = static_cast<T>(mi);
  v[i] = static_cast<T>(vi);
  param[i] = static_cast<T>(p - step.step_size * mi / (sqrt(vi) / step.bias_correction2_sqrt + step.eps));
}

}  // namespace

template <class T>
void launch_embedding_gather(const T* table, const std::int32_t* ids, std::int64_t rows,
                             std::int64_t vocab, std::int64_t width, T* y, cudaStream_t stream) {
  launch_linear(embedding_gather_kernel<T>, rows * width, stream, "embedding_gather_kernel", table,
                ids, rows, vocab, width, y);
}

template <class T>
void launch_embedding_scatter_add(const std::int32_t* ids, const T* dy, std::int64_t rows,
                                  std::int64_t vocab, std::int64_t width, T* dtable,
                                  cudaStream_t stream) {
  launch_linear(embedding_scatter_add_kernel<T>, rows * width, stream,
                "embedding_scatter_add_kernel", ids, dy, rows, vocab, width, dtable);
}

template <class T>
void launch_dropout(const T* in, std::int64_t count, double p, std::uint64_t seed,
                    std::uint64_t stream_id, T* out, cudaStream_t stream) {
  launch_linear(dropout_apply_kernel<T>, count, stream, "dropout_apply_kernel", in, count, p, seed,
                stream_id, out);
}

template <class T>
void launch_scale(T* x, std::int64_t count, double factor, cudaStream_t stream) {
  launch_linear(scale_kernel<T>, count, stream, "scale_kernel", x, count, factor);
}

template <class T>
void launch_sgd_update(T* param, const T* grad, T* momentum, std::int64_t count,
                       const train::SgdHyper& hyper, cudaStream_t stream) {
  launch_linear(sgd_update_kernel<T>, count, stream, "sgd_update_kernel", param, grad, momentum,
                count, hyper);
}

template <class T>
void launch_adam_update(T* param, const T* grad, T* m, T* v, std::int64_t count,
                        const AdamStep& step, cudaStream_t stream) {
  launch_linear(adam_update_kernel<T>, count, stream, "adam_update_kernel", param, grad, m, v, count,
                step);
}

#define GPURNN_INSTANTIATE_TRAIN_KERNELS(T)                                                       \
  template void launch_embedding_gather<T>(const T*, const std::int32_t*, std::int64_t,          \
                                           std::int64_t, std::int64_t, T*, cudaStream_t);        \
  template void launch_embedding_scatter_add<T>(const std::int32_t*, const T*, std::int64_t,     \
                                                std::int64_t, std::int64_t, T*, cudaStream_t);   \
  template void launch_dropout<T>(const T*, std::int64_t, double, std::uint64_t, std::uint64_t,  \
                                  T*, cudaStream_t);                                             \
  template void launch_scale<T>(T*, std::int64_t, double, cudaStream_t);                         \
  template void launch_sgd_update<T>(T*, const T*, T*, std::int64_t, const train::SgdHyper&,     \
                                     cudaStream_t);                                              \
  template void launch_adam_update<T>(T*, const T*, T*, T*, std::int64_t, const AdamStep&,       \
                                      cudaStream_t);
GPURNN_INSTANTIATE_TRAIN_KERNELS(float)
GPURNN_INSTANTIATE_TRAIN_KERNELS(double)
#undef GPURNN_INSTANTIATE_TRAIN_KERNELS

}  // namespace gpurnn::cuda
