// Element-wise helpers of the standard algorithm on CUDA: bias rows, transposes, dropout and
// dropout (the bias gradients' column sums are the training ops' blocked kernel,
// kernels/train_reduce_kernels.cu).
//
// Launch shape: 1-D grids of ceil(n / 256) blocks of 256 threads (kernels/launch_shape.h); each
// thread owns one output element named in the kernel's comment. No shared memory, no atomics:
// every kernel here is deterministic.

#include "cuda_status.h"
#include "gpurnn/detail/counter_random.h"
#include "launch_shape.h"
#include "step_kernels.h"

namespace gpurnn::cuda {
namespace {

__device__ __forceinline__ std::int64_t global_index() {
  return static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}

// Grid: [count, n] threads; thread (r, j) adds bias[j] to rows[r * ld + j].
template <class T>
__global__ void add_bias_rows_kernel(T* rows, std::int64_t count, std::int64_t n, std::int64_t ld,
                                     const T* bias) {
  std::int64_t r = 0, j = 0;
  if (kernels::row_and_col(global_index(), count, n, &r, &j)) rows[r * ld + j] += bias[j];
}

// Grid: a*b*f threads; thread e writes dst[e] of dst [b, a, f] from src [a, b, f].
template <class T>
__global__ void transpose_leading_kernel(const T* src, T* dst, std::int64_t a, std::int64_t b,
                                         std::int64_t f) {
  const std::int64_t e = global_index();
  if (e < a * b * f) dst[e] = src[kernels::transposed_source(e, a, b, f)];
}

// Grid: count threads; thread k scales values[k] by its dropout mask element (the same
// function of (seed, layer, k) as on the CPU).
template <class T>
__global__ void dropout_kernel(T* values, std::int64_t count, std::uint64_t seed, int layer, double p) {
  const std::int64_t k = global_index();
  if (k < count) {
    values[k] *= static_cast<T>(detail::dropout_scale(seed, static_cast<std::uint64_t>(layer),
                                                      static_cast<std::uint64_t>(k), p));
  }
}

template <class Kernel, class... Args>
void launch_linear(Kernel kernel, std::int64_t count, cudaStream_t stream, const char* name,
                   Args... args) {
  if (count <= 0) return;
  const kernels::LinearLaunch l = kernels::linear_launch(count);
  kernel<<<static_cast<unsigned>(l.blocks), l.threads, 0, stream>>>(args...);
  check_launch(name);
}

}  // namespace

template <class T>
void launch_add_bias_rows(T* rows, std::int64_t count, std::int64_t n, std::int64_t ld, const T* bias,
                          cudaStream_t stream) {
  if (bias == nullptr) return;
  launch_linear(add_bias_rows_kernel<T>, count * n, stream, "add_bias_rows_kernel", rows, count, n, ld, bias);
}

template <class T>
void launch_transpose_leading(const T* src, T* dst, std::int64_t a, std::int64_t b, std::int64_t f,
                              cudaStream_t stream) {
  launch_linear(transpose_leading_kernel<T>, a * b * f, stream, "transpose_leading_kernel", src, dst, a, b, f);
}

template <class T>
void launch_dropout(T* values, std::int64_t count, std::uint64_t seed, int layer, double p, cudaStream_t stream) {
  launch_linear(dropout_kernel<T>, count, stream, "dropout_kernel", values, count, seed, layer, p);
}

#define GPURNN_INSTANTIATE_ELEMENTWISE_KERNELS(T)                                                         \
  template void launch_add_bias_rows<T>(T*, std::int64_t, std::int64_t, std::int64_t, const T*, cudaStream_t); \
  template void launch_transpose_leading<T>(const T*, T*, std::int64_t, std::int64_t, std::int64_t,           \
                                            cudaStream_t);                                                    \
  template void launch_dropout<T>(T*, std::int64_t, std::uint64_t, int, double, cudaStream_t);
GPURNN_INSTANTIATE_ELEMENTWISE_KERNELS(float)
GPURNN_INSTANTIATE_ELEMENTWISE_KERNELS(double)
#undef GPURNN_INSTANTIATE_ELEMENTWISE_KERNELS

}  // namespace gpurnn::cuda
