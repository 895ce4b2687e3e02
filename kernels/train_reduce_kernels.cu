// Reductions of the training layer: bias gradients (column sums), softmax cross-entropy, squared
// error and sums of squares (launchers: train_kernels.h).
//
// Losses and sums of squares reduce in two deterministic passes: a first kernel of at most
// kMaxReduceBlocks blocks writes one ReducePartial per block (cub::BlockReduce over the block's
// threads, each thread having summed its own elements in a fixed order), then
// finish_reduce_kernel, one block, combines the partials in a fixed order into
// scratch[kMaxReduceBlocks], which the host copies back once. The grid size is a function of the
// problem size only, so a result is the same on every run on a given device. No atomics.
// All sums are in double, as on the cpu.

#include <cub/block/block_reduce.cuh>

#include <cmath>
#include <cstdint>

#include "cuda_status.h"
#include "train_kernels.h"
#include "launch_linear.cuh"

namespace gpurnn::cuda {
namespace {

constexpr int kReduceThreads = 256;

struct CombinePartials {
  __device__ ReducePartial operator()(const ReducePartial& a, const ReducePartial& b) const {
    return {a.sum + b.sum, a.count + b.count, a.first_bad < b.first_bad ? a.first_bad : b.first_bad};
  }
};
struct MaxOf {
  // std::max's rule (a NaN second argument is passed over), as the cpu's row maximum.
  __device__ double operator()(double a, double b) const { return a < b ? b : a; }
};

using PartialReduce = cub::BlockReduce<ReducePartial, kReduceThreads>;
using DoubleReduce = cub::BlockReduce<double, kReduceThreads>;

__device__ ReducePartial no_partial() { return {0.0, 0, kNoBadRow}; }

// Grid: one block of kReduceThreads. Thread t combines partials t, t + 256, ... in that order;
// the block then combines the threads' values (cub::BlockReduce, a fixed tree) and thread 0
// writes the total. Deterministic. Shared memory: the BlockReduce's temporary storage.
__global__ void __launch_bounds__(kReduceThreads)
    finish_reduce_kernel(const ReducePartial* partials, int count, ReducePartial* total) {
  __shared__ typename PartialReduce::TempStorage temp;
  ReducePartial mine = no_partial();
  for (int i = static_cast<int>(threadIdx.x); i < count; i += kReduceThreads) {
    mine = CombinePartials{}(mine, partials[i]);
  }
  const ReducePartial block_total = PartialReduce(temp).Reduce(mine, CombinePartials{});
  if (threadIdx.x == 0) *total = block_total;
}

// Grid: ceil(cols / 32) blocks of (32, kColumnLanes) threads. Block b owns columns
// [32b, 32b + 32); thread (x, y) sums column 32b + x over rows y, y + kColumnLanes, ... (row r
// at rows + r * ld) in row order, in double (a warp reads 32 adjacent columns of one row:
// coalesced); thread (x, 0) then adds the kColumnLanes partial sums of its column in y order and
// writes out[col]. Shared memory: kColumnLanes x 32 doubles (4 KiB). Deterministic. Also the
// RNN's bias gradients (CudaOps::column_sums), which once ran one thread per column over all
// T*B rows.
constexpr int kColumnTile = 32;
constexpr int kColumnLanes = 16;
template <class T>
__global__ void __launch_bounds__(kColumnTile* kColumnLanes)
    column_sums_kernel(const T* rows, std::int64_t n_rows, std::int64_t cols, std::int64_t ld, T* out,
                       bool accumulate) {
  __shared__ double lane_sums[kColumnLanes][kColumnTile];
  const std::int64_t col = static_cast<std::int64_t>(blockIdx.x) * kColumnTile + threadIdx.x;
  double sum = 0.0;
  if (col < cols) {
    for (std::int64_t r = threadIdx.y; r < n_rows; r += kColumnLanes) {
      sum += static_cast<double>(rows[r * ld + col]);
    }
  }
  lane_sums[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.y != 0 || col >= cols) return;
  double total = 0.0;
  for (int lane = 0; lane < kColumnLanes; ++lane) total += lane_sums[lane][threadIdx.x];
  out[col] = static_cast<T>(accumulate ? static_cast<double>(out[col]) + total : total);
}

// Grid: min(rows, kMaxReduceBlocks) blocks of kReduceThreads; block b owns rows b, b + grid, ...
// one at a time, its threads striding over the row's classes (thread t: classes t, t + 256, ...).
// Per row: the block's maximum (max-subtracted for range), the sum of exp(x - max), both with
// cub::BlockReduce, then lse = max + log(sum); thread 0 adds lse - x[target] to the block's
// running loss, and every thread writes its classes of dlogits = grad_scale*(exp(x - lse) -
// onehot). A row whose target is ignore_index gets zeros and is not counted; one whose target is
// otherwise outside [0, classes) gets zeros and is reported in first_bad. Thread 0 writes the
// block's ReducePartial to partials[b] (rows summed in order: deterministic). Shared memory: the
// BlockReduce storage and the row's max and sum.
template <class T>
__global__ void __launch_bounds__(kReduceThreads)
    softmax_cross_entropy_kernel(const T* logits, const std::int32_t* targets, std::int64_t rows,
                                 std::int64_t classes, std::int32_t ignore_index, double grad_scale,
                                 T* dlogits, ReducePartial* partials) {
  __shared__ typename DoubleReduce::TempStorage temp;
  __shared__ double row_max;
  __shared__ double row_sum;
  ReducePartial mine = no_partial();  // meaningful in thread 0
  for (std::int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* x = logits + row * classes;
    T* dx = dlogits == nullptr ? nullptr : dlogits + row * classes;
    const std::int32_t target = targets[row];  // the same for the whole block
    const bool ignored = target == ignore_index;
    if (ignored || target < 0 || target >= classes) {
      if (dx != nullptr) {
        for (std::int64_t j = threadIdx.x; j < classes; j += kReduceThreads) dx[j] = T(0);
      }
      if (!ignored && threadIdx.x == 0 && row < mine.first_bad) mine.first_bad = row;
      continue;
    }
    double local_max = -INFINITY;
    for (std::int64_t j = threadIdx.x; j < classes; j += kReduceThreads) {
      local_max = MaxOf{}(local_max, static_cast<double>(x[j]));
    }
    const double block_max = DoubleReduce(temp).Reduce(local_max, MaxOf{});
    if (threadIdx.x == 0) row_max = block_max;
    __syncthreads();  // row_max visible; temp free for the next reduction
    const double mx = row_max;
    double local_sum = 0.0;
    for (std::int64_t j = threadIdx.x; j < classes; j += kReduceThreads) {
      local_sum += exp(static_cast<double>(x[j]) - mx);
    }
    const double block_sum = DoubleReduce(temp).Sum(local_sum);
    if (threadIdx.x == 0) row_sum = block_sum;
    __syncthreads();  // row_sum visible
    const double lse = mx + log(row_sum);
    if (threadIdx.x == 0) {
      mine.sum += lse - static_cast<double>(x[target]);
      mine.count += 1;
    }
    if (dx != nullptr) {
      for (std::int64_t j = threadIdx.x; j < classes; j += kReduceThreads) {
        const double p = exp(static_cast<double>(x[j]) - lse);
        dx[j] = static_cast<T>(grad_scale * (p - (j == target ? 1.0 : 0.0)));
      }
    }
    __syncthreads();  // every thread has read row_max and row_sum before the next row's writes
  }
  if (threadIdx.x == 0) partials[blockIdx.x] = mine;
}

// Grid: up to kMaxReduceBlocks blocks of kReduceThreads, striding over the rows*cols elements
// (thread g of the grid: elements g, g + grid threads, ...) and, for the count, over the rows.
// Each thread sums mask[r]*(pred - target)^2 of its elements in order, in double, and writes
// its elements of dpred; the block combines its threads' sums and counts (cub::BlockReduce) and
// thread 0 writes partials[blockIdx.x]. Deterministic for a given grid.
template <class T>
__global__ void __launch_bounds__(kReduceThreads)
    squared_error_kernel(const T* pred, const T* target, const T* mask, std::int64_t rows,
                         std::int64_t cols, double grad_scale, T* dpred, ReducePartial* partials) {
  __shared__ typename PartialReduce::TempStorage temp;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * kReduceThreads;
  ReducePartial mine = no_partial();
  const std::int64_t total = rows * cols;
  for (std::int64_t e = global_index(); e < total; e += stride) {
    const double weight = mask == nullptr ? 1.0 : static_cast<double>(mask[e / cols]);
    const double diff = static_cast<double>(pred[e]) - (target == nullptr ? 0.0 : static_cast<double>(target[e]));
    mine.sum += weight * diff * diff;
    if (dpred != nullptr) dpred[e] = static_cast<T>(grad_scale * 2.0 * weight * diff);
  }
  for (std::int64_t r = global_index(); r < rows; r += stride) {
    if (mask == nullptr || static_cast<double>(mask[r]) != 0.0) mine.count += 1;
  }
  const ReducePartial block_total = PartialReduce(temp).Reduce(mine, CombinePartials{});
  if (threadIdx.x == 0) partials[blockIdx.x] = block_total;
}

// Blocks for a reduction over `work` items: enough for one item per thread, at most
// kMaxReduceBlocks, at least 1 (so the total is written even for no work).
int reduce_blocks(std::int64_t work, std::int64_t per_block) {
  const std::int64_t blocks = (work + per_block - 1) / per_block;
  return static_cast<int>(blocks < 1 ? 1 : (blocks > kMaxReduceBlocks ? kMaxReduceBlocks : blocks));
}

void finish_reduce(int blocks, ReducePartial* scratch, cudaStream_t stream) {
  finish_reduce_kernel<<<1, kReduceThreads, 0, stream>>>(scratch, blocks, scratch + kMaxReduceBlocks);
  check_launch("finish_reduce_kernel");
}

}  // namespace

template <class T>
void launch_column_sums(const T* rows, std::int64_t n_rows, std::int64_t cols, std::int64_t ld, T* out,
                        bool accumulate, cudaStream_t stream) {
  if (cols <= 0) return;
  const auto blocks = static_cast<unsigned>((cols + kColumnTile - 1) / kColumnTile);
  column_sums_kernel<T><<<blocks, dim3(kColumnTile, kColumnLanes), 0, stream>>>(rows, n_rows, cols,
                                                                                  ld, out, accumulate);
  check_launch("column_sums_kernel");
}

template <class T>
void launch_softmax_cross_entropy(const T* logits, const std::int32_t* targets, std::int64_t rows,
                                  std::int64_t classes, std::int32_t ignore_index,
                                  double grad_scale, T* dlogits, ReducePartial* scratch,
                                  cudaStream_t stream) {
  const int blocks = reduce_blocks(rows, 1);
  softmax_cross_entropy_kernel<T><<<blocks, kReduceThreads, 0, stream>>>(
      logits, targets, rows, classes, ignore_index, grad_scale, dlogits, scratch);
  check_launch("softmax_cross_entropy_kernel");
  finish_reduce(blocks, scratch, stream);
}

template <class T>
void launch_squared_error(const T* pred, const T* target, const T* mask, std::int64_t rows,
                          std::int64_t cols, double grad_scale, T* dpred, ReducePartial* scratch,
                          cudaStream_t stream) {
  const std::int64_t total = rows * cols;
  const int blocks = reduce_blocks(total > rows ? total : rows, kReduceThreads);
  squared_error_kernel<T><<<blocks, kReduceThreads, 0, stream>>>(pred, target, mask, rows, cols,
                                                                 grad_scale, dpred, scratch);
  check_launch("squared_error_kernel");
  finish_reduce(blocks, scratch, stream);
}

#define GPURNN_INSTANTIATE_TRAIN_REDUCE_KERNELS(T)                                                \
  template void launch_column_sums<T>(const T*, std::int64_t, std::int64_t, std::int64_t, T*, bool, cudaStream_t); \
  template void launch_softmax_cross_entropy<T>(const T*, const std::int32_t*, std::int64_t,       \
                                                std::int64_t, std::int32_t, double, T*,             \
                                                ReducePartial*, cudaStream_t);                      \
  template void launch_squared_error<T>(const T*, const T*, const T*, std::int64_t, std::int64_t,  \
                                        double, T*, ReducePartial*, cudaStream_t);
GPURNN_INSTANTIATE_TRAIN_REDUCE_KERNELS(float)
GPURNN_INSTANTIATE_TRAIN_REDUCE_KERNELS(double)
#undef GPURNN_INSTANTIATE_TRAIN_REDUCE_KERNELS

}  // namespace gpurnn::cuda
