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
//                      products), warp sum (shuffles; a sum over lanes on the CPU),
//                      apply_cell (lanes < BT: one sequence each)
//   -- __syncthreads --
// and after the last chunk, the grid barrier.
//
// States live in the [T+1, B, H] buffers of engine::LayerDirSlots (the standard algorithm's
// layout, which its backward reads): step t reads slot prev_slot(t) and writes slot
// next_slot(t) (forward t, t+1; reverse t+1, t). No slot is read and written in one step, so
// one grid barrier per step orders every write of h_t before every read of it.

#include <cstdint>

#include "engine/layer_loop.h"
#include "engine/persistent_plan.h"
#include "gpurnn/detail/cell_math.h"
#include "gpurnn/detail/host_device.h"

namespace gpurnn::kernels {

constexpr int kWarpSize = 32;

// How a CTA stages h_{t-1} (PersistentGeometry::staging): engine::PersistentStaging.
using engine::kStageElements;
using engine::kStageVectors;

// The problem and the plan, as the kernel sees them.
struct PersistentGeometry {
  int hidden;         // H
  int batch;          // B
  int seq_len;        // T
  bool reverse;       // step s processes t = T-1-s
  int units_per_cta;  // U
  int batch_tile;     // BT
  int batch_chunk;    // BC
  int staging = kStageVectors;  // engine::PersistentStaging
};

template <class T>
struct PersistentLstmArgs {
  PersistentGeometry g;
  const std::int32_t* lengths;  // [B] or null (every sequence has T steps)
  const T* w_hh;                // [4H, H]
  const T* b_hh;                // [4H] or null
  T* gates;                     // [T, B, 4H]: input pre-activations in, activated gates out
  T* h_states;                  // [T+1, B, H]: the initial state at its slot in
  T* c_states;                  // [T+1, B, H]: likewise
  T* y;                         // [T, B, ldy] at this direction's first column
  std::int64_t ldy;
};

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

// ---- shared memory (engine::persistent_shared_elements) -------------------------------------
template <class T>
struct SharedSlices {
  T* weights;  // [4][U][H]: row (gate, j) = W_hh row gate*H + first + j
  T* h;        // [BC][H]:   h_{t-1} of the chunk's sequences
  T* c;        // [U][B]:    the CTA's cell state
};
template <class T>
GPURNN_HOST_DEVICE SharedSlices<T> shared_slices(const PersistentGeometry& g, T* base) {
  const std::int64_t w = 4 * static_cast<std::int64_t>(g.units_per_cta) * g.hidden;
  return {base, base + w, base + w + static_cast<std::int64_t>(g.batch_chunk) * g.hidden};
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
template <class T>
GPURNN_HOST_DEVICE void load_cta_slices(const PersistentLstmArgs<T>& a, int cta, int tid, int threads, T* smem) {
  const PersistentGeometry& g = a.g;
  const SharedSlices<T> s = shared_slices(g, smem);
  const Range units = cta_units(g, cta);
  const std::int64_t H = g.hidden, U = g.units_per_cta;
  for (std::int64_t e = tid; e < 4 * U * H; e += threads) {
    const std::int64_t row = e / H, k = e % H;
    const int gate = static_cast<int>(row / U), j = static_cast<int>(row % U);
    s.weights[e] = j < units.count ? a.w_hh[(gate * H + units.first + j) * H + k] : T(0);
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
template <class T>
GPURNN_HOST_DEVICE void stage_h_chunk(const PersistentLstmArgs<T>& a, int step, int chunk, int tid, int threads,
                                      T* smem) {
  const PersistentGeometry& g = a.g;
  const SharedSlices<T> s = shared_slices(g, smem);
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
template <class T, int BT>
GPURNN_HOST_DEVICE void lane_partial_sums(const PersistentLstmArgs<T>& a, const T* smem, int cta, int chunk,
                                          int item, int lane, T (&acc)[4][BT]) {
  const PersistentGeometry& g = a.g;
  const SharedSlices<T> s = shared_slices(g, const_cast<T*>(smem));
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
    for (int gate = 0; gate < 4; ++gate) wv[gate] = s.weights[(gate * U + w.unit) * H + k];
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
// (t >= length) keeps h and c, gets zero gates and y = 0. Other lanes do nothing.
template <class T, int BT>
GPURNN_HOST_DEVICE void apply_cell(const PersistentLstmArgs<T>& a, T* smem, int step, int cta, int chunk, int item,
                                   int lane, const T (&sums)[4][BT]) {
  const PersistentGeometry& g = a.g;
  const LaneOutput out = lane_output(g, cta, chunk, item, lane);
  if (!out.owns) return;
  const SharedSlices<T> s = shared_slices(g, smem);
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
  a.h_states[next] = r.m;
  *y = r.m;
}

// ---- from the engine's layer loop ---------------------------------------------------------------

// The kernel's arguments for one layer direction (engine::layer_forward's hook arguments).
template <class T>
PersistentLstmArgs<T> persistent_args(const engine::PersistentPlan& plan, const engine::LayerProblem& p,
                                      const engine::LayerWeights<T>& w, const engine::LayerBuffers<T>& buf,
                                      const engine::LayerForwardIO<T>& io, int staging = kStageVectors) {
  PersistentLstmArgs<T> a{};
  a.g = {static_cast<int>(p.desc->hidden_size), static_cast<int>(p.batch), static_cast<int>(p.seq_len),
         p.reverse,  plan.units_per_cta,           plan.batch_tile,          plan.batch_chunk,
         staging};
  a.lengths = p.lengths;
  a.w_hh = w.w_hh;
  a.b_hh = w.b_hh;
  a.gates = buf.gates;
  a.h_states = buf.h_states;
  a.c_states = buf.c_states;
  a.y = io.y;
  a.ldy = io.ldy;
  return a;
}

}  // namespace gpurnn::kernels
