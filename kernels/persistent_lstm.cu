// The persistent LSTM kernel: one cooperative launch runs every step of one layer direction
// (the design notes: ../../shared PERSISTENT.md and DESIGN.md, "Persistent fused LSTM kernel").
// The input projection of all steps is already in `gates` (the standard algorithm's GEMM); this
// kernel does the recurrent part, all four gates and the cell update of every step.
//
// Grid: plan.ctas CTAs per direction (at most one per SM, all resident: cooperative launch),
// one direction or both directions of a bidirectional layer at once (grid CTAs [0, ctas) the
// forward one, [ctas, 2 ctas) the reverse one; kernels::PersistentLaunch); block: plan.threads
// threads (1 to 8 warps). CTA c of a direction owns its hidden units [c*U, min(H, (c+1)*U)).
// Shared memory (dynamic, plan.shared_bytes): the CTA's 4*U rows of W_hh and its U x B cell
// state for the whole launch, and a chunk of batch_chunk sequences of h_{t-1} each step.
// Template arguments: T the compute and state type (float, double); W the type of W_hh in global
// and shared memory: T, or for a bf16/f16 call gpurnn::bfloat16 / gpurnn::float16 with T float
// (half the bytes per weight; each weight widened to f32 before its product, the f32 sums in the
// f32 kernel's order; h_t rounded to W's type each step, to nearest even, before it is stored as
// the next step's operand and as y; h_{t-1} staged and c kept in f32: persistent_lstm_map.h);
// BT the batch tile; the reduction. Half weights are instantiated with kReduceScatter only (the
// variant "persistent" runs; both stagings, a run-time choice, work).
// Per step and chunk: all threads stage h_{t-1} (L1-bypassing loads: the chunk as one contiguous
// range of 16-byte loads, thread t taking vectors t, t + threads, ..., four in flight; or, with
// staging kStageElements, element by element); each warp takes items
// (unit j, tile of BT sequences): its lanes split k = lane, lane+32, ... of the 4 x BT dot
// products W_hh[gate*H + j, :] · h_{t-1}[b, :]. With kReduceScatter a reduce-scatter butterfly
// leaves lane l the full sum of value (gate, bb) = reduced_value(l), every lane activates that
// gate, 4 shuffles gather each sequence's gates, the first lane of each group stores its gate
// and the gate-0 lane writes c_t, h_t and y_t; with kReduceFull (the first version) a full
// butterfly sums every value on every lane and lane l < BT applies the cell to sequence l of
// the tile. Then one grid barrier (cooperative_groups grid sync) per step.
// The thread-to-data arithmetic and the phases are kernels/persistent_lstm_map.h, which the CPU
// tests enumerate and simulate. Deterministic: fixed summation order, no atomics.
// Preconditions: the plan fits this device; pointers are device memory on the current device;
// the initial states are at their slots of h_states/c_states.

#include <cooperative_groups.h>

#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>

#include "cuda_status.h"
#include "persistent_lstm.h"
#include "gpurnn/error.h"
#include "persistent_lstm_map.h"

namespace gpurnn::cuda {
namespace {

namespace cg = cooperative_groups;
using kernels::PersistentLstmArgs;

template <class T, int BT>
__device__ __forceinline__ void warp_sum(T (&acc)[4][BT]) {
  GPURNN_UNROLL
  for (int gate = 0; gate < 4; ++gate) {
    GPURNN_UNROLL
    for (int bb = 0; bb < BT; ++bb) {
      GPURNN_UNROLL
      for (int offset = kernels::kWarpSize / 2; offset > 0; offset /= 2) {
        acc[gate][bb] += __shfl_xor_sync(0xffffffffu, acc[gate][bb], offset);
      }
    }
  }
}

// Lane `lane` of the warp on `item`, after lane_partial_sums: kReduceScatter reduces the sums
// by a reduce-scatter butterfly, each lane activates the gate whose sum it holds, the four gates
// of each sequence are gathered by shuffles and the first lane of each group stores (the
// mapping: persistent_lstm_map.h); kReduceFull sums every value on every lane and lanes < BT
// apply the cell.
template <class T, class W, int BT, int kReduction>
__device__ __forceinline__ void reduce_and_apply(const PersistentLstmArgs<T, W>& a, T* smem, int step, int cta, int chunk,
                                                 int item, int lane, T (&acc)[4][BT]) {
  if constexpr (kReduction == kernels::kReduceScatter) {
    const T hh = kernels::reduce_scatter<BT>(acc, lane);
    const T act = kernels::activate_lane_gate<T, BT>(a, step, cta, chunk, item, lane, hh);
    detail::LstmGates<T> gates;
    gates.i = __shfl_sync(0xffffffffu, act, kernels::gate_source_lane<BT>(lane, 0));
    gates.f = __shfl_sync(0xffffffffu, act, kernels::gate_source_lane<BT>(lane, 1));
    gates.g = __shfl_sync(0xffffffffu, act, kernels::gate_source_lane<BT>(lane, 2));
    gates.o = __shfl_sync(0xffffffffu, act, kernels::gate_source_lane<BT>(lane, 3));
    kernels::apply_gathered_cell<T, BT>(a, smem, step, cta, chunk, item, lane, gates);
  } else {
    warp_sum<T, BT>(acc);
    kernels::apply_cell<T, BT>(a, smem, step, cta, chunk, item, lane, acc);
  }
}

// Every step of one direction on CTA `cta` of it (see the file comment for the mapping).
template <class T, class W, int BT, int kReduction>
__device__ __forceinline__ void run_direction(const PersistentLstmArgs<T, W>& a, int cta, T* smem,
                                              const cg::grid_group& grid) {
  const int tid = static_cast<int>(threadIdx.x), threads = static_cast<int>(blockDim.x);
  const int warp = tid / kernels::kWarpSize, lane = tid % kernels::kWarpSize, warps = threads / kernels::kWarpSize;
  kernels::load_cta_slices(a, cta, tid, threads, smem);
  for (int step = 0; step < a.g.seq_len; ++step) {
    for (int chunk = 0; chunk < kernels::chunk_count(a.g); ++chunk) {
      // The previous chunk's readers (and, at a chunk's start, the weight loads) are done.
      __syncthreads();
      kernels::stage_h_chunk(a, step, chunk, tid, threads, smem);
      __syncthreads();
      const int items = kernels::items_in_chunk(a.g, cta, chunk);
      for (int item = warp; item < items; item += warps) {  // warp-uniform: shuffles are safe
        T acc[4][BT];
        kernels::lane_partial_sums<T, BT>(a, smem, cta, chunk, item, lane, acc);
        reduce_and_apply<T, W, BT, kReduction>(a, smem, step, cta, chunk, item, lane, acc);
      }
    }
    // h_t of every CTA (of both directions) written before any CTA stages it as h_{t-1}.
    if (step + 1 < a.g.seq_len) grid.sync();
  }
}

// Grid CTA b runs direction launch_cta(b).direction; both directions (when there are two) call
// grid.sync() at every step alike. Each branch reads its arguments straight from the parameter
// space (no copy of them in registers).
template <class T, class W, int BT, int kReduction>
__global__ void __launch_bounds__(kernels::kPersistentMaxThreads, 1) persistent_lstm_kernel(kernels::PersistentLaunch<T, W> launch) {
  extern __shared__ __align__(16) unsigned char persistent_shared[];
  T* smem = reinterpret_cast<T*>(persistent_shared);
  const cg::grid_group grid = cg::this_grid();
  const kernels::LaunchCta c = kernels::launch_cta(launch.ctas_per_direction, static_cast<int>(blockIdx.x));
  if (c.direction == 0) {
    run_direction<T, W, BT, kReduction>(launch.dirs[0], c.cta, smem, grid);
  } else {
    run_direction<T, W, BT, kReduction>(launch.dirs[1], c.cta, smem, grid);
  }
}

// `compute(key)` the first time `key` is asked for, then that value (thread-safe): the launch
// queries below are answered once, not at every launch.
template <class Key, class Compute>
int once_per_key(std::map<Key, int>& cache, std::mutex& mutex, const Key& key, Compute compute) {
  const std::lock_guard<std::mutex> lock(mutex);
  const auto it = cache.find(key);
  return it != cache.end() ? it->second : cache.emplace(key, compute()).first->second;
}

// The SM count of `device`. The first call per (device, kernel instantiation) also raises the
// kernel's dynamic shared-memory limit to the device's opt-in maximum, so no launch changes it (a
// per-plan size set at each launch raced between host threads launching different plans).
int sm_count_with_shared_limit_raised(const void* kernel, int device) {
  static std::mutex mutex;
  static std::map<std::pair<const void*, int>, int> cache;
  return once_per_key(cache, mutex, std::make_pair(kernel, device), [&] {
    int sms = 0, optin = 0;
    GPURNN_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    GPURNN_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
    GPURNN_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, optin));
    return sms;
  });
}

// CTAs of (threads, shared bytes) one SM holds.
int resident_per_sm(const void* kernel, int device, int threads, std::size_t bytes) {
  static std::mutex mutex;
  static std::map<std::tuple<const void*, int, int, std::size_t>, int> cache;
  return once_per_key(cache, mutex, std::make_tuple(kernel, device, threads, bytes), [&] {
    int per_sm = 0;
    GPURNN_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, threads, bytes));
    return per_sm;
  });
}

template <class T, class W, int BT, int kReduction>
void launch_tiled(const kernels::PersistentLaunch<T, W>& launch, int threads, std::size_t shared_bytes,
                  cudaStream_t stream) {
  const void* kernel = reinterpret_cast<const void*>(&persistent_lstm_kernel<T, W, BT, kReduction>);
  int device = 0;
  GPURNN_CUDA_CHECK(cudaGetDevice(&device));
  const int sms = sm_count_with_shared_limit_raised(kernel, device);
  // Every CTA must be resident at once, or the grid barrier never opens.
  const int per_sm = resident_per_sm(kernel, device, threads, shared_bytes);
  const int ctas = launch.ctas_per_direction * launch.directions;
  if (per_sm * sms < ctas) {
    throw Error(ErrorCode::unsupported,
                "forward: the persistent kernel needs " + std::to_string(ctas) + " resident CTAs of " +
                    std::to_string(threads) + " threads and " + std::to_string(shared_bytes) +
                    " bytes of shared memory, but the device holds " + std::to_string(per_sm) + " per SM on " +
                    std::to_string(sms) + " SMs");
  }
  kernels::PersistentLaunch<T, W> copy = launch;
  void* params[] = {&copy};
  GPURNN_CUDA_CHECK(cudaLaunchCooperativeKernel(kernel, dim3(static_cast<unsigned>(ctas)),
                                                dim3(static_cast<unsigned>(threads)), params, shared_bytes,
                                                stream));
  check_launch("persistent_lstm_kernel");
}

template <class T, class W, int kReduction>
void launch_reducing(const kernels::PersistentLaunch<T, W>& launch, int threads, std::size_t shared_bytes,
                     cudaStream_t stream) {
  const int batch_tile = launch.dirs[0].g.batch_tile;
  switch (batch_tile) {
    case 1: return launch_tiled<T, W, 1, kReduction>(launch, threads, shared_bytes, stream);
    case 2: return launch_tiled<T, W, 2, kReduction>(launch, threads, shared_bytes, stream);
    case 4: return launch_tiled<T, W, 4, kReduction>(launch, threads, shared_bytes, stream);
    default:
      throw Error(ErrorCode::internal, "launch_persistent_lstm: no kernel for batch tile " + std::to_string(batch_tile));
  }
}

}  // namespace

template <class T, class W>
void launch_persistent_lstm(const kernels::PersistentLaunch<T, W>& launch, int threads, std::size_t shared_bytes,
                            cudaStream_t stream) {
  if (launch.dirs[0].g.reduction == kernels::kReduceScatter) {
    return launch_reducing<T, W, kernels::kReduceScatter>(launch, threads, shared_bytes, stream);
  }
  if constexpr (kernels::WeightStorage<W>::kRoundsState) {
    // Half weights: only the reduce-scatter is instantiated (compile time; the caller refuses the rest).
    throw Error(ErrorCode::unsupported,
                "forward: the persistent kernel with bf16/f16 weights runs the reduce-scatter reduction only");
  } else {
    launch_reducing<T, W, kernels::kReduceFull>(launch, threads, shared_bytes, stream);
  }
}

template void launch_persistent_lstm<float, float>(const kernels::PersistentLaunch<float, float>&, int, std::size_t,
                                                   cudaStream_t);
template void launch_persistent_lstm<double, double>(const kernels::PersistentLaunch<double, double>&, int,
                                                     std::size_t, cudaStream_t);
template void launch_persistent_lstm<float, bfloat16>(const kernels::PersistentLaunch<float, bfloat16>&, int,
                                                      std::size_t, cudaStream_t);
template void launch_persistent_lstm<float, float16>(const kernels::PersistentLaunch<float, float16>&, int,
                                                     std::size_t, cudaStream_t);

}  // namespace gpurnn::cuda
