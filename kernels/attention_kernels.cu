// Kernels of the attention ops (launchers: attention_kernels.h): score masking, row
// softmax and its backward (one warp per row), tanh and add_scaled (one thread per element), and
// Bahdanau's additive scores with their gradients (one thread per output element, looping over
// the reduced index; dv one block per feature). The batched dot products are cuBLAS.
//
// Every value is computed in double and rounded to T once, as the cpu ops do; sums run in a
// fixed order per thread and a fixed tree per warp or block, so every result is deterministic.
// No atomics. Time-major tensors: element (x, b, y) of [X, B, Y] is at (x*B + b)*Y + y.

#include <cub/block/block_reduce.cuh>

#include <cmath>
#include <cstdint>

#include "attention_kernels.h"
#include "launch_linear.cuh"

namespace gpurnn::cuda {
namespace {

constexpr int kWarp = 32;
constexpr int kRowsPerBlock = kernels::kThreadsPerBlock / kWarp;  // softmax: 8 rows per block
constexpr unsigned kFullMask = 0xffffffffu;

// std::max's rule (a NaN second argument is passed over), as the cpu's row maximum.
__device__ __forceinline__ double max_of(double a, double b) { return a < b ? b : a; }

// The maximum / sum over the 32 lanes of a warp (butterfly: every lane gets the result).
__device__ double warp_max(double v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) v = max_of(v, __shfl_xor_sync(kFullMask, v, offset));
  return v;
}
__device__ double warp_sum(double v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(kFullMask, v, offset);
  return v;
}

// Grid: t*b*s threads (ceil(n / 256) blocks of 256); thread i owns scores[i] = scores[t', b', s']
// with s' = i % s, b' = (i / s) % b, and writes -infinity there when s' >= lengths[b'] or
// excluded[i] != 0; otherwise it leaves the element alone.
template <class T>
__global__ void mask_scores_kernel(T* scores, const std::int32_t* lengths, const std::uint8_t* excluded,
                                   std::int64_t count, std::int64_t b, std::int64_t s) {
  const std::int64_t i = global_index();
  if (i >= count) return;
  const std::int64_t col = i % s;
  const std::int64_t row_b = (i / s) % b;
  const bool past_length = lengths != nullptr && col >= static_cast<std::int64_t>(lengths[row_b]);
  const bool is_excluded = excluded != nullptr && excluded[i] != 0;
  if (past_length || is_excluded) scores[i] = static_cast<T>(-INFINITY);
}

// Grid: ceil(rows / 8) blocks of 256 threads = 8 warps; warp w of block g owns row 8g + w, its
// lane l the columns l, l + 32, ... Three passes over the row: the maximum (warp_max), the sum
// of exp(x - max) (warp_sum), then y = exp(x - max) / sum. A row whose maximum is -infinity
// (every entry masked) gets zeros. Each lane writes only the columns it read, after its warp's
// reductions, so y may be x. The whole warp leaves together for a row past the end (the
// shuffles need every lane). No shared memory.
template <class T>
__global__ void softmax_rows_kernel(const T* x, std::int64_t rows, std::int64_t cols, T* y) {
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarp;
  const int lane = static_cast<int>(threadIdx.x % kWarp);
  if (row >= rows) return;
  const T* in = x + row * cols;
  T* out = y + row * cols;
  double mx = -INFINITY;
  for (std::int64_t j = lane; j < cols; j += kWarp) mx = max_of(mx, static_cast<double>(in[j]));
  mx = warp_max(mx);
  if (mx == -INFINITY) {
    for (std::int64_t j = lane; j < cols; j += kWarp) out[j] = T(0);
    return;
  }
  double sum = 0.0;
  for (std::int64_t j = lane; j < cols; j += kWarp) sum += exp(static_cast<double>(in[j]) - mx);
  sum = warp_sum(sum);
  for (std::int64_t j = lane; j < cols; j += kWarp) out[j] = static_cast<T>(exp(static_cast<double>(in[j]) - mx) / sum);
}

// Grid and ownership as softmax_rows_kernel: warp per row, lane per column stride. The warp
// sums dy . y (warp_sum), then each lane writes dx = y * (dy - dot) for the columns it read;
// dx may be dy.
template <class T>
__global__ void softmax_backward_rows_kernel(const T* y, const T* dy, std::int64_t rows, std::int64_t cols,
                                             T* dx) {
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarp;
  const int lane = static_cast<int>(threadIdx.x % kWarp);
  if (row >= rows) return;
  const std::int64_t off = row * cols;
  double dot = 0.0;
  for (std::int64_t j = lane; j < cols; j += kWarp) {
    dot += static_cast<double>(dy[off + j]) * static_cast<double>(y[off + j]);
  }
  dot = warp_sum(dot);
  for (std::int64_t j = lane; j < cols; j += kWarp) {
    dx[off + j] = static_cast<T>(static_cast<double>(y[off + j]) * (static_cast<double>(dy[off + j]) - dot));
  }
}

// Grid: count threads; thread i writes y[i] = tanh(x[i]) (reads before writing: y may be x).
template <class T>
__global__ void tanh_forward_kernel(const T* x, std::int64_t count, T* y) {
  const std::int64_t i = global_index();
  if (i < count) y[i] = static_cast<T>(tanh(static_cast<double>(x[i])));
}

// Grid: count threads; thread i writes dx[i] = dy[i] * (1 - y[i]^2) (dx may be dy).
template <class T>
__global__ void tanh_backward_kernel(const T* y, const T* dy, std::int64_t count, T* dx) {
  const std::int64_t i = global_index();
  if (i >= count) return;
  const double yi = static_cast<double>(y[i]);
  dx[i] = static_cast<T>(static_cast<double>(dy[i]) * (1.0 - yi * yi));
}

// Grid: count threads; thread i writes y[i] += alpha * x[i].
template <class T>
__global__ void add_scaled_kernel(const T* x, std::int64_t count, double alpha, T* y) {
  const std::int64_t i = global_index();
  if (i < count) y[i] = static_cast<T>(static_cast<double>(y[i]) + alpha * static_cast<double>(x[i]));
}

// Grid: t*b*s threads; thread i owns scores[i] = scores[t', b', s'] (s' = i % s, b' = (i / s) % b,
// t' = i / (s*b)) and sums v[a] * tanh(keys[s', b', a] + query[t', b', a]) over a in order.
template <class T>
__global__ void additive_scores_kernel(const T* query, const T* keys, const T* v, std::int64_t count,
                                       std::int64_t b, std::int64_t s, std::int64_t a, T* scores) {
  const std::int64_t i = global_index();
  if (i >= count) return;
  const std::int64_t col = i % s, row_b = (i / s) % b, row_t = i / (s * b);
  const T* q = query + (row_t * b + row_b) * a;
  const T* k = keys + (col * b + row_b) * a;
  double sum = 0.0;
  for (std::int64_t f = 0; f < a; ++f) {
    sum += static_cast<double>(v[f]) * tanh(static_cast<double>(k[f]) + static_cast<double>(q[f]));
  }
  scores[i] = static_cast<T>(sum);
}

// Grid: t*b*a threads; thread i owns dquery[i] = dquery[t', b', f] (f = i % a, b' = (i / a) % b,
// t' = i / (a*b)) and sums dscores[t', b', s'] * (1 - tanh(keys[s', b', f] + query[i])^2) over s'
// in order, times v[f]; it writes dquery[i] (+)= that sum.
template <class T>
__global__ void additive_dquery_kernel(const T* query, const T* keys, const T* v, const T* dscores,
                                       std::int64_t count, std::int64_t b, std::int64_t s, std::int64_t a,
                                       T* dquery, bool accumulate) {
  const std::int64_t i = global_index();
  if (i >= count) return;
  const std::int64_t f = i % a, row_b = (i / a) % b, row_t = i / (a * b);
  const double q = static_cast<double>(query[i]);
  const T* ds = dscores + (row_t * b + row_b) * s;
  double sum = 0.0;
  for (std::int64_t col = 0; col < s; ++col) {
    const double th = tanh(static_cast<double>(keys[(col * b + row_b) * a + f]) + q);
    sum += static_cast<double>(ds[col]) * (1.0 - th * th);
  }
  sum *= static_cast<double>(v[f]);
  dquery[i] = static_cast<T>(accumulate ? static_cast<double>(dquery[i]) + sum : sum);
}

// Grid: s*b*a threads; thread i owns dkeys[i] = dkeys[s', b', f] (f = i % a, b' = (i / a) % b,
// s' = i / (a*b)) and sums dscores[t', b', s'] * (1 - tanh(keys[i] + query[t', b', f])^2) over t'
// in order, times v[f]; it writes dkeys[i] (+)= that sum.
template <class T>
__global__ void additive_dkeys_kernel(const T* query, const T* keys, const T* v, const T* dscores,
                                      std::int64_t count, std::int64_t t, std::int64_t b, std::int64_t s,
                                      std::int64_t a, T* dkeys, bool accumulate) {
  const std::int64_t i = global_index();
  if (i >= count) return;
  const std::int64_t f = i % a, row_b = (i / a) % b, col = i / (a * b);
  const double k = static_cast<double>(keys[i]);
  double sum = 0.0;
  for (std::int64_t row_t = 0; row_t < t; ++row_t) {
    const double th = tanh(k + static_cast<double>(query[(row_t * b + row_b) * a + f]));
    sum += static_cast<double>(dscores[(row_t * b + row_b) * s + col]) * (1.0 - th * th);
  }
  sum *= static_cast<double>(v[f]);
  dkeys[i] = static_cast<T>(accumulate ? static_cast<double>(dkeys[i]) + sum : sum);
}

// Grid: a blocks of 256 threads; block f owns dv[f]. Thread j sums dscores[n] * tanh(keys[s', b',
// f] + query[t', b', f]) over the score elements n = j, j + 256, ... (n = (t'*b + b')*s + s') in
// order; the block adds the threads' sums (cub::BlockReduce, a fixed tree) and thread 0 writes
// dv[f] (+)= the total. Shared memory: the BlockReduce's storage.
using DoubleReduce = cub::BlockReduce<double, kernels::kThreadsPerBlock>;
template <class T>
__global__ void __launch_bounds__(kernels::kThreadsPerBlock)
    additive_dv_kernel(const T* query, const T* keys, const T* dscores, std::int64_t t, std::int64_t b,
                       std::int64_t s, std::int64_t a, T* dv, bool accumulate) {
  __shared__ typename DoubleReduce::TempStorage temp;
  const std::int64_t f = blockIdx.x;
  const std::int64_t count = t * b * s;
  double sum = 0.0;
  for (std::int64_t n = threadIdx.x; n < count; n += kernels::kThreadsPerBlock) {
    const std::int64_t col = n % s, row_b = (n / s) % b, row_t = n / (s * b);
    const double th = tanh(static_cast<double>(keys[(col * b + row_b) * a + f]) +
                           static_cast<double>(query[(row_t * b + row_b) * a + f]));
    sum += static_cast<double>(dscores[n]) * th;
  }
  const double total = DoubleReduce(temp).Sum(sum);
  if (threadIdx.x == 0) dv[f] = static_cast<T>(accumulate ? static_cast<double>(dv[f]) + total : total);
}

}  // namespace

template <class T>
void launch_mask_scores(T* scores, const std::int32_t* lengths, const std::uint8_t* excluded,
                        std::int64_t t, std::int64_t b, std::int64_t s, cudaStream_t stream) {
  if (lengths == nullptr && excluded == nullptr) return;
  launch_linear(mask_scores_kernel<T>, t * b * s, stream, "mask_scores_kernel", scores, lengths, excluded,
                t * b * s, b, s);
}

template <class T>
void launch_softmax_rows(const T* x, std::int64_t rows, std::int64_t cols, T* y, cudaStream_t stream) {
  if (rows <= 0 || cols <= 0) return;
  const auto blocks = static_cast<unsigned>((rows + kRowsPerBlock - 1) / kRowsPerBlock);
  softmax_rows_kernel<T><<<blocks, kernels::kThreadsPerBlock, 0, stream>>>(x, rows, cols, y);
  check_launch("softmax_rows_kernel");
}

template <class T>
void launch_softmax_backward_rows(const T* y, const T* dy, std::int64_t rows, std::int64_t cols, T* dx,
                                  cudaStream_t stream) {
  if (rows <= 0 || cols <= 0) return;
  const auto blocks = static_cast<unsigned>((rows + kRowsPerBlock - 1) / kRowsPerBlock);
  softmax_backward_rows_kernel<T><<<blocks, kernels::kThreadsPerBlock, 0, stream>>>(y, dy, rows, cols, dx);
  check_launch("softmax_backward_rows_kernel");
}

template <class T>
void launch_tanh_forward(const T* x, std::int64_t count, T* y, cudaStream_t stream) {
  launch_linear(tanh_forward_kernel<T>, count, stream, "tanh_forward_kernel", x, count, y);
}

template <class T>
void launch_tanh_backward(const T* y, const T* dy, std::int64_t count, T* dx, cudaStream_t stream) {
  launch_linear(tanh_backward_kernel<T>, count, stream, "tanh_backward_kernel", y, dy, count, dx);
}

template <class T>
void launch_add_scaled(const T* x, std::int64_t count, double alpha, T* y, cudaStream_t stream) {
  launch_linear(add_scaled_kernel<T>, count, stream, "add_scaled_kernel", x, count, alpha, y);
}

template <class T>
void launch_additive_scores(const T* query, const T* keys, const T* v, std::int64_t t, std::int64_t b,
                            std::int64_t s, std::int64_t a, T* scores, cudaStream_t stream) {
  launch_linear(additive_scores_kernel<T>, t * b * s, stream, "additive_scores_kernel", query, keys, v,
                t * b * s, b, s, a, scores);
}

template <class T>
void launch_additive_scores_backward(const T* query, const T* keys, const T* v, const T* dscores,
                                     std::int64_t t, std::int64_t b, std::int64_t s, std::int64_t a,
                                     T* dquery, T* dkeys, T* dv, bool accumulate, cudaStream_t stream) {
  if (dquery != nullptr) {
    launch_linear(additive_dquery_kernel<T>, t * b * a, stream, "additive_dquery_kernel", query, keys, v,
                  dscores, t * b * a, b, s, a, dquery, accumulate);
  }
  if (dkeys != nullptr) {
    launch_linear(additive_dkeys_kernel<T>, s * b * a, stream, "additive_dkeys_kernel", query, keys, v,
                  dscores, s * b * a, t, b, s, a, dkeys, accumulate);
  }
  if (dv != nullptr && a > 0) {
    additive_dv_kernel<T><<<static_cast<unsigned>(a), kernels::kThreadsPerBlock, 0, stream>>>(
        query, keys, dscores, t, b, s, a, dv, accumulate);
    check_launch("additive_dv_kernel");
  }
}

#define GPURNN_INSTANTIATE_ATTENTION_KERNELS(T)                                                        \
  template void launch_mask_scores<T>(T*, const std::int32_t*, const std::uint8_t*, std::int64_t,     \
                                      std::int64_t, std::int64_t, cudaStream_t);                      \
  template void launch_softmax_rows<T>(const T*, std::int64_t, std::int64_t, T*, cudaStream_t);       \
  template void launch_softmax_backward_rows<T>(const T*, const T*, std::int64_t, std::int64_t, T*,   \
                                                cudaStream_t);                                        \
  template void launch_tanh_forward<T>(const T*, std::int64_t, T*, cudaStream_t);                     \
  template void launch_tanh_backward<T>(const T*, const T*, std::int64_t, T*, cudaStream_t);          \
  template void launch_add_scaled<T>(const T*, std::int64_t, double, T*, cudaStream_t);               \
  template void launch_additive_scores<T>(const T*, const T*, const T*, std::int64_t, std::int64_t,   \
                                          std::int64_t, std::int64_t, T*, cudaStream_t);              \
  template void launch_additive_scores_backward<T>(const T*, const T*, const T*, const T*,            \
                                                   std::int64_t, std::int64_t, std::int64_t,          \
                                                   std::int64_t, T*, T*, T*, bool, cudaStream_t);
GPURNN_INSTANTIATE_ATTENTION_KERNELS(float)
GPURNN_INSTANTIATE_ATTENTION_KERNELS(double)
#undef GPURNN_INSTANTIATE_ATTENTION_KERNELS

}  // namespace gpurnn::cuda
