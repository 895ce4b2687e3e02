#pragma once
// The persistent LSTM kernel's thread-to-data arithmetic and its per-CTA step, cut into the
// phases between its barriers, as host/device functions: the kernel (persistent_lstm.cu) calls
// them, and CPU tests call the same functions for every CTA, warp and lane to check ownership
// (every element of h_t, c_t, the gates and y written exactly once per step; every read of
// h_{t-1} from the state slot of the step before) and to run the kernel's own arithmetic on
// small problems against the cpu backend.
//
// One step of CTA `cta` (the kernel, per chunk of sequences):
//   stage_h_chunk      all threads: h_{t-1} of the chunk's sequences -> shared h chunk
//   -- __syncthreads --
//   per warp item      lane_partial_sums (each lane: its k = lane, lane+32, ... of the dot
//                      products), then with kReduceScatter (the default):
//                        reduce_scatter (shuffles; the same code on all 32 lanes at once on
//                        the CPU), activate_lane_gate (every lane: one gate of one sequence),
//                        a gather of the four gates by shuffles (gate_source_lane), apply_gathered_cell
//                      or with kReduceFull (the first version): a full warp sum of every value
//                      (shuffles; a sum over lanes on the CPU), apply_cell (lanes < BT)
//   -- __syncthreads --
// and after the last chunk, the grid barrier.
//
// Weights: the phases are templates on T, the type the kernel computes and keeps states in, and
// W, the type of W_hh in global and shared memory (WeightStorage below): T itself (f32, f64), or
// gpurnn::bfloat16 / gpurnn::float16 for the bf16/f16 calls (T float). A half W changes three
// things only: the weight slice in shared memory is half (half the bytes: engine/persistent_plan.h),
// each product widens its weight to f32 first (exact: a half x half product is exact in f32, and
// the sums run in f32 in the same order as the f32 kernel's), and h_t is rounded to W's type once
// per step before it is written to h_states and y (the README's precision rule, which the standard
// loop applies in HalfForwardOps::finish_forward_step; this kernel bypasses that loop). h_{t-1}
// is staged as f32: its values already are half values, the engine's state buffers (which the
// backward reads) are f32, so the 16-byte copy stays as it is and the inner loop reads f32 operands
// without a conversion; staging it as half would save BC*H*2 bytes of shared memory, a few KiB
// next to the weight slice. The cell state stays f32 (the rule), and the gates are saved in f32.
//
// States live in the [T+1, B, H] state buffers of the engine's layer loop (LayerDirSlots, the
// standard algorithm's layout, which its backward reads): step t reads slot prev_slot(t) and
// writes slot next_slot(t) (forward t, t+1; reverse t+1, t). No slot is read and written in one step, so
// one grid barrier per step orders every write of h_t before every read of it.

#include <cstdint>

#if defined(__CUDACC__)
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#endif

#include "gpurnn/detail/cell_math.h"
#include "gpurnn/detail/host_device.h"
#include "gpurnn/half.h"
#include "persistent_lstm_args.h"

namespace gpurnn::kernels {

constexpr int kWarpSize = 32;

// ---- the storage type of W_hh ------------------------------------------------------------------
// WeightStorage<W>::widen(w): the weight as the kernel multiplies it; round_state(v): h_t as the
// kernel writes it; zero(): a W zero. For W == T nothing changes. For gpurnn::bfloat16 and
// gpurnn::float16 (same 16 bits as __nv_bfloat16 and __half) widening is exact and round_state
// rounds to the nearest half value, ties to even: __float2bfloat16_rn / __float2half_rn on the
// GPU, gpurnn/half.h's conversions on the CPU (the same rounding: tests/test_core_types.cpp).
template <class W>
struct WeightStorage {
  static constexpr bool kRoundsState = false;
  GPURNN_HOST_DEVICE static W widen(W w) { return w; }
  template <class T>
  GPURNN_HOST_DEVICE static T round_state(T v) {
    return v;
  }
  GPURNN_HOST_DEVICE static W zero() { return W(0); }
};
template <>
struct WeightStorage<bfloat16> {
  static constexpr bool kRoundsState = true;
  GPURNN_HOST_DEVICE static float widen(bfloat16 w) {
#if defined(__CUDA_ARCH__)
    return __uint_as_float(static_cast<unsigned>(w.bits) << 16);
#else
    return static_cast<float>(w);
#endif
  }
  GPURNN_HOST_DEVICE static float round_state(float v) {
#if defined(__CUDA_ARCH__)
    return __bfloat162float(__float2bfloat16_rn(v));
#else
    return static_cast<float>(bfloat16(v));
#endif
  }
  GPURNN_HOST_DEVICE static bfloat16 zero() { return bfloat16{}; }
};
template <>
struct WeightStorage<float16> {
  static constexpr bool kRoundsState = true;
  GPURNN_HOST_DEVICE static float widen(float16 w) {
#if defined(__CUDA_ARCH__)
    return __half2float(__ushort_as_half(w.bits));
#else
    return static_cast<float>(w);
#endif
  }
  GPURNN_HOST_DEVICE static float round_state(float v) {
#if defined(__CUDA_ARCH__)
    return __half2float(__float2half_rn(v));
#else
    return static_cast<float>(float16(v));
#endif
  }
  GPURNN_HOST_DEVICE static float16 zero() { return float16{}; }
};

// Which direction, and which of its CTAs, grid CTA `block` is.
struct LaunchCta {
  int direction;
  int cta;
};
GPURNN_HOST_DEVICE LaunchCta launch_cta(int ctas_per_direction, int block) {
  const int direction = block >= ctas_per_direction ? 1 : 0;
  return {direction, block - direction * ctas_per_direction};
}

// ---- time and state slots (as engine::LayerProblem) ----------------------------------------
GPURNN_HOST_DEVICE int time_at(const PersistentGeometry& g, int step) {
  return g.reverse ? g.seq_len - 1 - step : step;
}
GPURNN_HOST_DEVICE int prev_slot(const PersistentGeometry& g, int t) { return g.reverse ? t + 1 : t; }
GPURNN_HOST_DEVICE int next_slot(const PersistentGeometry& g, int t) { return g.reverse ? t : t + 1; }
GPURNN_HOST_DEVICE int initial_slot(const PersistentGeometry& g) { return g.reverse ? g.seq_len : 0; }

// Element (b, j) of state slot `slot` of a [T+1, B, H] buffer.
GPURNN_HOST_DEVICE std::int64_t state_index(const PersistentGeometry& g, int slot, int b, int j) {
  return (static_cast<std::int64_t>(slot) * g.batch + b) * g.hidden + j;
}
// Gate `gate` (i, f, g, o) of unit j of sequence b at time t in [T, B, 4H].
GPURNN_HOST_DEVICE std::int64_t gate_index(const PersistentGeometry& g, int t, int b, int gate, int j) {
  return (static_cast<std::int64_t>(t) * g.batch + b) * 4 * g.hidden + static_cast<std::int64_t>(gate) * g.hidden + j;
}

// ---- who owns what ---------------------------------------------------------------------------
struct Range {
  int first;
  int count;
};

// Hidden units of a CTA: [cta*U, min(H, (cta+1)*U)).
GPURNN_HOST_DEVICE Range cta_units(const PersistentGeometry& g, int cta) {
  const int first = cta * g.units_per_cta;
  const int rest = g.hidden - first;
  return {first, rest < g.units_per_cta ? rest : g.units_per_cta};
}
GPURNN_HOST_DEVICE int chunk_count(const PersistentGeometry& g) {
  return (g.batch + g.batch_chunk - 1) / g.batch_chunk;
}
// Sequences of chunk c: [c*BC, min(B, (c+1)*BC)).
GPURNN_HOST_DEVICE Range chunk_batches(const PersistentGeometry& g, int chunk) {
  const int first = chunk * g.batch_chunk;
  const int rest = g.batch - first;
  return {first, rest < g.batch_chunk ? rest : g.batch_chunk};
}
GPURNN_HOST_DEVICE int tiles_in(const PersistentGeometry& g, Range batches) {
  return (batches.count + g.batch_tile - 1) / g.batch_tile;
}
// Warp items of a chunk: one per (unit of the CTA, batch tile of the chunk); warp w takes items
// w, w + warps, ...
GPURNN_HOST_DEVICE int items_in_chunk(const PersistentGeometry& g, int cta, int chunk) {
  return cta_units(g, cta).count * tiles_in(g, chunk_batches(g, chunk));
}
struct WarpItem {
  int unit;        // local unit j in [0, units.count)
  int tile_first;  // the tile's first sequence, relative to the chunk
  int tile_count;  // sequences in the tile (the chunk's last tile may have fewer than BT)
};
GPURNN_HOST_DEVICE WarpItem warp_item(const PersistentGeometry& g, int cta, int chunk, int item) {
  const int units = cta_units(g, cta).count;
  const Range batches = chunk_batches(g, chunk);
  const int tile_first = (item / units) * g.batch_tile;
  const int rest = batches.count - tile_first;
  return {item % units, tile_first, rest < g.batch_tile ? rest : g.batch_tile};
}

// The element (b, j) whose cell lane `lane` of the warp on `item` computes, if any: lanes
// below the tile's count, one sequence each. `row` is b's row in the shared h chunk.
struct LaneOutput {
  bool owns;
  int b;
  int j;
  int row;
};
GPURNN_HOST_DEVICE LaneOutput lane_output(const PersistentGeometry& g, int cta, int chunk, int item, int lane) {
  const WarpItem w = warp_item(g, cta, chunk, item);
  const int row = w.tile_first + lane;
  return {lane < w.tile_count, chunk_batches(g, chunk).first + row, cta_units(g, cta).first + w.unit, row};
}
// Element e of a chunk's staging loop: row (sequence first + row) and feature k of h_{t-1}.
struct StagedElement {
  int row;
  int k;
};
GPURNN_HOST_DEVICE StagedElement staged_element(const PersistentGeometry& g, std::int64_t e) {
  return {static_cast<int>(e / g.hidden), static_cast<int>(e % g.hidden)};
}

// ---- shared memory (persistent_shared_bytes) ----------------------------------------------------
template <class T, class W = T>
struct SharedSlices {
  W* weights;  // [4][U][H]: row (gate, j) = W_hh row gate*H + first + j (padded to 16 bytes)
  T* h;        // [BC][H]:   h_{t-1} of the chunk's sequences (16-byte aligned)
  T* c;        // [U][B]:    the CTA's cell state
};
template <class T, class W = T>
GPURNN_HOST_DEVICE SharedSlices<T, W> shared_slices(const PersistentGeometry& g, T* base) {
  // In elements of T: 4*U*H when W is T (already a multiple of 16 bytes; the f32/f64 arithmetic
  // as before), else the padded byte count of persistent_weight_bytes.
  std::int64_t w = 4 * static_cast<std::int64_t>(g.units_per_cta) * g.hidden;
  if constexpr (sizeof(W) != sizeof(T)) {
    w = persistent_weight_bytes(g.hidden, g.units_per_cta, sizeof(W)) / static_cast<std::int64_t>(sizeof(T));
  }
  return {reinterpret_cast<W*>(base), base + w, base + w + static_cast<std::int64_t>(g.batch_chunk) * g.hidden};
}

// A load of h_{t-1} that bypasses L1 (another SM wrote it this launch).
template <class T>
GPURNN_HOST_DEVICE T load_global_state(const T* p) {
#if defined(__CUDA_ARCH__)
  return __ldcg(p);
#else
  return *p;
#endif
}

GPURNN_HOST_DEVICE bool is_active(const std::int32_t* lengths, int b, int t) {
  return lengths == nullptr || t < lengths[b];
}

// ---- the phases --------------------------------------------------------------------------------

// Once per launch, thread `tid` of `threads`: the CTA's W_hh rows and initial cell state into
// shared memory (rows past the CTA's units are zero).
template <class T, class W>
GPURNN_HOST_DEVICE void load_cta_slices(const PersistentLstmArgs<T, W>& a, int cta, int tid, int threads, T* smem) {
  const PersistentGeometry& g = a.g;
  const SharedSlices<T, W> s = shared_slices<T, W>(g, smem);
  const Range units = cta_units(g, cta);
  const std::int64_t H = g.hidden, U = g.units_per_cta;
  for (std::int64_t e = tid; e < 4 * U * H; e += threads) {
    const std::int64_t row = e / H, k = e % H;
    const int gate = static_cast<int>(row / U), j = static_cast<int>(row % U);
    s.weights[e] = j < units.count ? a.w_hh[(gate * H + units.first + j) * H + k] : WeightStorage<W>::zero();
  }
  for (std::int64_t e = tid; e < U * g.batch; e += threads) {
    const int j = static_cast<int>(e / g.batch), b = static_cast<int>(e % g.batch);
    s.c[e] = j < units.count ? a.c_states[state_index(g, initial_slot(g), b, units.first + j)] : T(0);
  }
}

// 16 bytes of h_{t-1} (4 floats or 2 doubles), loaded past L1 like load_global_state.
template <class T>
struct StateVector {
  static constexpr int kCount = 16 / static_cast<int>(sizeof(T));
  T v[kCount];
};
template <class T>
GPURNN_HOST_DEVICE StateVector<T> load_global_vector(const T* p) {
  StateVector<T> out;
#if defined(__CUDA_ARCH__)
  if constexpr (sizeof(T) == 4) {
    const float4 f = __ldcg(reinterpret_cast<const float4*>(p));
    out.v[0] = f.x, out.v[1] = f.y, out.v[2] = f.z, out.v[3] = f.w;
  } else {
    const double2 d = __ldcg(reinterpret_cast<const double2*>(p));
    out.v[0] = d.x, out.v[1] = d.y;
  }
#else
  for (int i = 0; i < StateVector<T>::kCount; ++i) out.v[i] = p[i];
#endif
  return out;
}

// 16 bytes into `p`, 16-byte aligned shared memory: one st.shared.v4.f32 / v2.f64 on the GPU
// (a float4 store through a pointer was split into four 4-byte stores by the compiler).
template <class T>
GPURNN_HOST_DEVICE void store_shared_vector(T* p, const StateVector<T>& x) {
#if defined(__CUDA_ARCH__)
  const auto address = static_cast<unsigned>(__cvta_generic_to_shared(p));
  if constexpr (sizeof(T) == 4) {
    asm("st.shared.v4.f32 [%0], {%1, %2, %3, %4};" ::"r"(address), "f"(x.v[0]), "f"(x.v[1]), "f"(x.v[2]),
        "f"(x.v[3])
        : "memory");
  } else {
    asm("st.shared.v2.f64 [%0], {%1, %2};" ::"r"(address), "d"(x.v[0]), "d"(x.v[1]) : "memory");
  }
#else
  for (int i = 0; i < StateVector<T>::kCount; ++i) p[i] = x.v[i];
#endif
}

// Thread `tid` of `threads`: dst[0, n) = src[0, n), src read past L1, dst in shared memory. When src and dst share
// their offset within 16 bytes (always for a chunk of h_{t-1} when H is a multiple of 4 floats
// or 2 doubles: the shared h chunk is 16-byte aligned), the body goes in 16-byte vectors, each
// thread loading kUnroll of them before storing any (several L2 round trips in flight), with a
// scalar head and tail; otherwise element by element, also kUnroll loads before the stores. No
// division: the index is the range's own.
template <class T>
GPURNN_HOST_DEVICE void copy_range_past_l1(const T* src, T* dst, std::int64_t n, int tid, int threads) {
  constexpr int kVec = StateVector<T>::kCount;
  constexpr int kUnroll = 4;
  const auto address = [](const void* p) { return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p)); };
  std::int64_t head = n;  // elements before the vector body (all of them: no body)
  if ((address(src) ^ address(dst)) % 16 == 0) {
    const std::int64_t misaligned = static_cast<std::int64_t>(address(src) % 16) / static_cast<std::int64_t>(sizeof(T));
    head = misaligned == 0 ? 0 : kVec - misaligned;
    if (head > n) head = n;
  }
  const std::int64_t vectors = (n - head) / kVec;
  // Scalar head, then the vectors, kUnroll per thread per round.
  for (std::int64_t e = tid; e < head; e += threads) dst[e] = load_global_state(src + e);
  const std::int64_t stride = static_cast<std::int64_t>(threads) * kUnroll;
  for (std::int64_t base = tid; base < vectors; base += stride) {
    StateVector<T> v[kUnroll] = {};
GPURNN_UNROLL
    for (int u = 0; u < kUnroll; ++u) {
      const std::int64_t i = base + static_cast<std::int64_t>(u) * threads;
      if (i < vectors) v[u] = load_global_vector(src + head + i * kVec);
    }
GPURNN_UNROLL
    for (int u = 0; u < kUnroll; ++u) {
      const std::int64_t i = base + static_cast<std::int64_t>(u) * threads;
      if (i < vectors) store_shared_vector(dst + head + i * kVec, v[u]);
    }
  }
  // Scalar tail (also the whole range when the offsets differ and head == n).
  for (std::int64_t e = head + vectors * kVec + tid; e < n; e += threads) dst[e] = load_global_state(src + e);
}

// Thread `tid` of `threads`: h_{t-1} of the chunk's sequences into the shared h chunk. The
// chunk's rows are consecutive in the [T+1, B, H] state buffer and in the shared chunk, so it is
// one contiguous range (kStageVectors); kStageElements is the first version, kept to be timed.
template <class T, class W>
GPURNN_HOST_DEVICE void stage_h_chunk(const PersistentLstmArgs<T, W>& a, int step, int chunk, int tid, int threads,
                                      T* smem) {
  const PersistentGeometry& g = a.g;
  const SharedSlices<T, W> s = shared_slices<T, W>(g, smem);
  const Range batches = chunk_batches(g, chunk);
  const int slot = prev_slot(g, time_at(g, step));
  const std::int64_t H = g.hidden;
  if (g.staging == kStageVectors) {
    copy_range_past_l1(a.h_states + state_index(g, slot, batches.first, 0), s.h, batches.count * H, tid, threads);
    return;
  }
  for (std::int64_t e = tid; e < batches.count * H; e += threads) {
    const StagedElement x = staged_element(g, e);
    s.h[e] = load_global_state(a.h_states + state_index(g, slot, batches.first + x.row, x.k));
  }
}

// Lane `lane` of the warp on `item`: acc[gate][bb] = sum over its k (lane, lane+32, ...) of
// W_hh[gate*H + unit, k] * h_{t-1}[tile sequence bb, k]. Sequences past the tile read as zero.
// A half weight is widened first (exact), the same sums in the same order.
template <class T, int BT, class W>
GPURNN_HOST_DEVICE void lane_partial_sums(const PersistentLstmArgs<T, W>& a, const T* smem, int cta, int chunk,
                                          int item, int lane, T (&acc)[4][BT]) {
  const PersistentGeometry& g = a.g;
  const SharedSlices<T, W> s = shared_slices<T, W>(g, const_cast<T*>(smem));
  const WarpItem w = warp_item(g, cta, chunk, item);
  const std::int64_t H = g.hidden, U = g.units_per_cta;
GPURNN_UNROLL
  for (int gate = 0; gate < 4; ++gate) {
GPURNN_UNROLL
    for (int bb = 0; bb < BT; ++bb) acc[gate][bb] = T(0);
  }
  for (std::int64_t k = lane; k < H; k += kWarpSize) {
    T wv[4];
GPURNN_UNROLL
    for (int gate = 0; gate < 4; ++gate) wv[gate] = WeightStorage<W>::widen(s.weights[(gate * U + w.unit) * H + k]);
    T hv[BT];
GPURNN_UNROLL
    for (int bb = 0; bb < BT; ++bb) hv[bb] = bb < w.tile_count ? s.h[(w.tile_first + bb) * H + k] : T(0);
GPURNN_UNROLL
    for (int gate = 0; gate < 4; ++gate) {
GPURNN_UNROLL
      for (int bb = 0; bb < BT; ++bb) acc[gate][bb] += wv[gate] * hv[bb];
    }
  }
}

// Lane `lane` < tile_count of the warp on `item`, given the warp's full sums (W_hh h_{t-1} of
// its unit, every gate, every tile sequence): applies the cell to sequence tile_first + lane of
// the chunk and writes its gates, c_t (shared and global), h_t and y_t. An inactive sequence
// (t >= length) keeps h and c, gets zero gates and y = 0. Other lanes do nothing. With half
// weights h_t is rounded to their type (WeightStorage::round_state); a kept h already is a half value.
template <class T, int BT, class W>
GPURNN_HOST_DEVICE void apply_cell(const PersistentLstmArgs<T, W>& a, T* smem, int step, int cta, int chunk, int item,
                                   int lane, const T (&sums)[4][BT]) {
  const PersistentGeometry& g = a.g;
  const LaneOutput out = lane_output(g, cta, chunk, item, lane);
  if (!out.owns) return;
  const SharedSlices<T, W> s = shared_slices<T, W>(g, smem);
  const int t = time_at(g, step);
  const int b = out.b, j = out.j;
  T& c = s.c[(j - cta_units(g, cta).first) * g.batch + b];
  const std::int64_t next = state_index(g, next_slot(g, t), b, j);
  T* y = a.y + (static_cast<std::int64_t>(t) * g.batch + b) * a.ldy + j;
  if (!is_active(a.lengths, b, t)) {
GPURNN_UNROLL
    for (int gate = 0; gate < 4; ++gate) a.gates[gate_index(g, t, b, gate, j)] = T(0);
    a.h_states[next] = s.h[static_cast<std::int64_t>(out.row) * g.hidden + j];
    a.c_states[next] = c;
    *y = T(0);
    return;
  }
  // The lane's own column of the sums, with compile-time indices only (registers, not stack).
  T ih[4], hh[4];
GPURNN_UNROLL
  for (int gate = 0; gate < 4; ++gate) {
    hh[gate] = T(0);
GPURNN_UNROLL
    for (int col = 0; col < BT; ++col) {
      if (col == lane) hh[gate] = sums[gate][col];
    }
    hh[gate] += a.b_hh != nullptr ? a.b_hh[gate * g.hidden + j] : T(0);
    ih[gate] = a.gates[gate_index(g, t, b, gate, j)];
  }
  const detail::LstmStep<T> r = detail::lstm_forward(ih, hh, c);
  a.gates[gate_index(g, t, b, 0, j)] = r.gates.i;
  a.gates[gate_index(g, t, b, 1, j)] = r.gates.f;
  a.gates[gate_index(g, t, b, 2, j)] = r.gates.g;
  a.gates[gate_index(g, t, b, 3, j)] = r.gates.o;
  c = r.c;
  a.c_states[next] = r.c;
  const T h = WeightStorage<W>::round_state(r.m);
  a.h_states[next] = h;
  *y = h;
}

// ---- kReduceScatter: the warp's reduction and the all-lane cell ---------------------------------
// The warp holds 4 x BT partial sums per lane (N = 4*BT values, N in {4, 8, 16}). A reduce-scatter
// butterfly halves what each lane holds at offsets 16, 8, ...: at the stage of offset o, a lane
// with bit o set keeps the upper half of its values and sends the lower half to lane ^ o, which
// does the opposite, and each adds what it receives (N/2 + N/4 + ... + 1 shuffles), until one
// value is left; a plain butterfly over the remaining offsets completes its sum. Lane l then holds
// the warp's full sum of value reduced_value<BT>(l) = gate * BT + bb, as do the other lanes of its
// group of 32 / N (16 shuffles in all at BT 4, where summing each value on every lane takes 80).
//
// The code is written once over V, "one value per lane": on the GPU V is T and `lane` the lane's
// index (shuffle_xor is __shfl_xor_sync); the CPU simulation runs it with V = WarpValues<T> and
// lane = AllLanes{}, every lane at once, with the shuffle an exchange between array entries.

template <class T>
struct WarpValues {  // one T per lane
  T lane[kWarpSize];
};
struct WarpMask {  // one bool per lane
  bool lane[kWarpSize];
};
struct AllLanes {};  // the CPU's `lane`: all 32 at once

GPURNN_HOST_DEVICE bool lane_has_bit(int lane, int bit) { return (lane & bit) != 0; }
inline WarpMask lane_has_bit(AllLanes, int bit) {
  WarpMask m{};
  for (int l = 0; l < kWarpSize; ++l) m.lane[l] = (l & bit) != 0;
  return m;
}
template <class T>
GPURNN_HOST_DEVICE T pick(bool upper, T if_upper, T otherwise) {
  return upper ? if_upper : otherwise;
}
template <class T>
WarpValues<T> pick(const WarpMask& upper, const WarpValues<T>& if_upper, const WarpValues<T>& otherwise) {
  WarpValues<T> out{};
  for (int l = 0; l < kWarpSize; ++l) out.lane[l] = upper.lane[l] ? if_upper.lane[l] : otherwise.lane[l];
  return out;
}
template <class T>
WarpValues<T> operator+(const WarpValues<T>& a, const WarpValues<T>& b) {
  WarpValues<T> out{};
  for (int l = 0; l < kWarpSize; ++l) out.lane[l] = a.lane[l] + b.lane[l];
  return out;
}
template <class T>
WarpValues<T> shuffle_xor(const WarpValues<T>& x, int offset) {  // lane l receives lane l ^ offset's value
  WarpValues<T> out{};
  for (int l = 0; l < kWarpSize; ++l) out.lane[l] = x.lane[l ^ offset];
  return out;
}
#if defined(__CUDACC__)
template <class T>
__device__ __forceinline__ T shuffle_xor(T x, int offset) {
  return __shfl_xor_sync(0xffffffffu, x, offset);
}
#endif

// log2 of the values per lane (4 * BT), 2..4.
template <int BT>
inline constexpr int kReducedValueBits = BT == 1 ? 2 : BT == 2 ? 3 : 4;
// The value (gate * BT + bb) whose full sum lane `lane` holds after reduce_scatter.
template <int BT>
GPURNN_HOST_DEVICE int reduced_value(int lane) {
  return lane >> (5 - kReducedValueBits<BT>);
}
// The first lane of the group holding value `value`.
template <int BT>
GPURNN_HOST_DEVICE int lane_of_value(int value) {
  return value << (5 - kReducedValueBits<BT>);
}

// One stage: `v` holds 2 * kHalf values per lane; afterwards its first kHalf hold the sums of
// the half the lane kept (upper or lower by its bit `offset`) and the half its partner sent.
template <int kHalf, class V, class Lane>
GPURNN_HOST_DEVICE void scatter_halve(V* v, Lane lane, int offset) {
  const auto upper = lane_has_bit(lane, offset);
GPURNN_UNROLL
  for (int i = 0; i < kHalf; ++i) {
    const V send = pick(upper, v[i], v[i + kHalf]);
    const V keep = pick(upper, v[i + kHalf], v[i]);
    v[i] = keep + shuffle_xor(send, offset);
  }
}
template <int kCount, class V, class Lane>
GPURNN_HOST_DEVICE void scatter_stages(V* v, Lane lane, int offset) {
  if constexpr (kCount > 1) {
    scatter_halve<kCount / 2>(v, lane, offset);
    scatter_stages<kCount / 2>(v, lane, offset / 2);
  } else {
GPURNN_UNROLL
    for (int o = offset; o > 0; o /= 2) v[0] = v[0] + shuffle_xor(v[0], o);
  }
}

// The warp's sums of acc[gate][bb], scattered: lane l returns the full sum of value
// reduced_value<BT>(l).
template <int BT, class V, class Lane>
GPURNN_HOST_DEVICE V reduce_scatter(const V (&acc)[4][BT], Lane lane) {
  V v[4 * BT];
GPURNN_UNROLL
  for (int gate = 0; gate < 4; ++gate) {
GPURNN_UNROLL
    for (int bb = 0; bb < BT; ++bb) v[gate * BT + bb] = acc[gate][bb];
  }
  scatter_stages<4 * BT>(v, lane, kWarpSize / 2);
  return v[0];
}

// What lane `lane` of the warp on `item` stands for after reduce_scatter: gate `gate` of tile
// sequence `bb` (sequence b, unit j); `first` for the first lane of its group, the one that
// stores; `owns` when bb is a sequence of the tile (the chunk's last tile may be short).
struct LaneGate {
  bool owns;
  bool first;
  int gate;
  int b;
  int j;
  int row;  // b's row in the shared h chunk
};
template <int BT>
GPURNN_HOST_DEVICE LaneGate lane_gate(const PersistentGeometry& g, int cta, int chunk, int item, int lane) {
  const WarpItem w = warp_item(g, cta, chunk, item);
  const int value = reduced_value<BT>(lane);
  const int bb = value % BT;
  const int row = w.tile_first + bb;
  return {bb < w.tile_count, lane == lane_of_value<BT>(value), value / BT,
          chunk_batches(g, chunk).first + row, cta_units(g, cta).first + w.unit, row};
}
// The lane whose activated gate `gate` lane `lane` gathers: the same sequence's.
template <int BT>
GPURNN_HOST_DEVICE int gate_source_lane(int lane, int gate) {
  return lane_of_value<BT>(gate * BT + reduced_value<BT>(lane) % BT);
}

// Lane `lane` of the warp on `item`, holding the full sum `hh` (W_hh h_{t-1} of its gate and
// sequence): that gate's activation, input projection and b_hh added; 0 for a lane past the tile.
template <class T, int BT, class W>
GPURNN_HOST_DEVICE T activate_lane_gate(const PersistentLstmArgs<T, W>& a, int step, int cta, int chunk, int item,
                                        int lane, T hh) {
  const PersistentGeometry& g = a.g;
  const LaneGate x = lane_gate<BT>(g, cta, chunk, item, lane);
  if (!x.owns) return T(0);
  const int t = time_at(g, step);
  const T bias = a.b_hh != nullptr ? a.b_hh[x.gate * g.hidden + x.j] : T(0);
  return detail::lstm_gate_activation(x.gate, a.gates[gate_index(g, t, x.b, x.gate, x.j)] + (hh + bias));
}

// Lane `lane`, given the four activated gates of its sequence (gathered from the lanes
// gate_source_lane names): the first lane of each group stores its own gate; the one of gate 0
// also updates c (shared and global) and writes h_t and y_t. An inactive sequence (t >= length)
// gets zero gates and y = 0 and keeps h and c, as in apply_cell; with half weights h_t is rounded
// to their type, as in apply_cell.
template <class T, int BT, class W>
GPURNN_HOST_DEVICE void apply_gathered_cell(const PersistentLstmArgs<T, W>& a, T* smem, int step, int cta, int chunk,
                                            int item, int lane, const detail::LstmGates<T>& gates) {
  const PersistentGeometry& g = a.g;
  const LaneGate x = lane_gate<BT>(g, cta, chunk, item, lane);
  if (!x.owns || !x.first) return;
  const int t = time_at(g, step);
  const bool active = is_active(a.lengths, x.b, t);
  const T own[4] = {gates.i, gates.f, gates.g, gates.o};
  T mine = own[0];
GPURNN_UNROLL
  for (int q = 1; q < 4; ++q) mine = q == x.gate ? own[q] : mine;  // compile-time indices only
  a.gates[gate_index(g, t, x.b, x.gate, x.j)] = active ? mine : T(0);
  if (x.gate != 0) return;
  const SharedSlices<T, W> s = shared_slices<T, W>(g, smem);
  T& c = s.c[(x.j - cta_units(g, cta).first) * g.batch + x.b];
  const std::int64_t next = state_index(g, next_slot(g, t), x.b, x.j);
  T* y = a.y + (static_cast<std::int64_t>(t) * g.batch + x.b) * a.ldy + x.j;
  if (!active) {
    a.h_states[next] = s.h[static_cast<std::int64_t>(x.row) * g.hidden + x.j];
    a.c_states[next] = c;
    *y = T(0);
    return;
  }
  const detail::LstmStep<T> r = detail::lstm_update(gates, c);
  c = r.c;
  a.c_states[next] = r.c;
  const T h = WeightStorage<W>::round_state(r.m);
  a.h_states[next] = h;
  *y = h;
}

}  // namespace gpurnn::kernels
