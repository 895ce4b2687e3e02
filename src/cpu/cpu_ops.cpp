// The CPU backend's step operations: per sequence, the cell equations of detail/cell_math.h
// for active rows, state carried through for finished ones; sequences on the worker pool's
// threads (for_each_item). f32 rows of the cells that need
// exp/tanh go to the vectorised copies of the same equations in cpu_rows_f32.h.

#include "cpu/cpu_ops.h"

#include "core/half_arrays.h"

#include <algorithm>
#include <cstring>
#include <vector>
#include <type_traits>

#include "cpu/blas.h"
#include "cpu/cpu_rows_f32.h"
#if defined(GPURNN_HAVE_ONEDNN)
#include "cpu/gemv_f32.h"
#endif
#include "cpu/packed_gemm.h"
#include "cpu/worker_pool.h"
#include "gpurnn/detail/cell_math.h"
#include "gpurnn/detail/cell_traits.h"
#include "gpurnn/detail/counter_random.h"

namespace gpurnn::cpu {
namespace {

// Below this many elements a step's rows run on the calling thread: waking the pool costs
// more than the loop (a few microseconds on idle cores).
constexpr std::int64_t kMinParallelElements = 8192;

// body(r) for r in [0, count), each r's `elements_per_item` elements on one thread of the
// worker pool (worker_pool.h), the same threads the GEMMs around them use.
template <class T, class Body>
void for_each_item(std::int64_t count, std::int64_t elements_per_item, const Body& body) {
  if (count > 1 && count * elements_per_item >= kMinParallelElements) return parallel_for(count, body);
  for (std::int64_t r = 0; r < count; ++r) body(r);
}

bool active(const std::int32_t* lengths, std::int64_t b, std::int64_t t) {
  return lengths == nullptr || t < lengths[b];
}

template <class T>
void copy_row(T* dst, const T* src, std::int64_t n) {
  std::memcpy(dst, src, static_cast<std::size_t>(n) * sizeof(T));
}

// The gates of one active sequence: `gates` holds the input pre-activations on entry and the
// saved gates on exit; `hh` the recurrent pre-activations (b_hh added here).
template <class T>
void cell_forward(CellKind cell, std::int64_t h, T* gates, const T* hh, const T* b_hh,
                  const T* h_prev, const T* c_prev, T* c_next, T* out) {
  if constexpr (std::is_same_v<T, float>) {
    switch (cell) {
      case CellKind::lstm: return lstm_forward_row_f32(h, gates, hh, b_hh, c_prev, c_next, out);
      case CellKind::gru: return gru_forward_row_f32(h, gates, hh, b_hh, h_prev, out);
      case CellKind::rnn_tanh:
      case CellKind::rnn_sigmoid: return vanilla_forward_row_f32(cell, h, gates, hh, b_hh, out);
      default: break;  // rnn_relu: the scalar loop is as fast
    }
  }
  for (std::int64_t j = 0; j < h; ++j) {
    const detail::UnitForward<T> r = detail::cell_unit_forward(cell, h, j, gates, hh, b_hh, h_prev, c_prev);
    out[j] = r.out;
    if (c_next) c_next[j] = r.c;
  }
}

// Gradients of one active sequence; `grad` is dm (projection) or dh. Writes d_ih (and d_hh),
// updates dc; for a GRU leaves z ⊙ dh in dh.
template <class T>
void cell_backward(CellKind cell, std::int64_t h, const T* gates, const T* c_prev,
                   const T* c_next, const T* h_prev, const T* grad, T* dh, T* dc, T* d_ih, T* d_hh) {
  if constexpr (std::is_same_v<T, float>) {
    if (cell == CellKind::lstm) {
      return lstm_backward_row_f32(h, gates, c_prev, c_next, grad, dc, d_ih);
    }
  }
  const bool blends = detail::cell_traits(cell).blends_state;
  for (std::int64_t j = 0; j < h; ++j) {
    const detail::UnitBackward<T> r =
        detail::cell_unit_backward(cell, h, j, gates, grad[j], h_prev, c_prev, c_next, dc, d_ih, d_hh);
    if (dc) dc[j] = r.dc_prev;
    if (blends) dh[j] = r.dh_direct;
  }
}

// The products of one inner index (k = 1: the weight gradients of one step of one sequence) up
// to this many elements are a plain loop: a oneDNN matmul's setup costs more than the product.
constexpr std::int64_t kMaxRankOneLoop = std::int64_t{1} << 20;

// C = alpha op(A) op(B) + beta C for k = 1, an outer product; C is not read when beta is 0.
template <class T>
void rank_one_product(engine::Trans ta, engine::Trans tb, std::int64_t m, std::int64_t n, T alpha, const T* a,
                      std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc) {
  const std::int64_t a_step = ta == engine::Trans::yes ? 1 : lda;  // op(A)[i, 0]
  const std::int64_t b_step = tb == engine::Trans::yes ? ldb : 1;  // op(B)[0, j]
  for (std::int64_t i = 0; i < m; ++i) {
    const T ai = alpha * a[i * a_step];
    T* row = c + i * ldc;
    if (beta == T(0)) {
      for (std::int64_t j = 0; j < n; ++j) row[j] = ai * b[j * b_step];
    } else {
      for (std::int64_t j = 0; j < n; ++j) row[j] = ai * b[j * b_step] + beta * row[j];
    }
  }
}

}  // namespace

template <class T>
void CpuOps<T>::gemm(engine::Trans ta, engine::Trans tb, std::int64_t m, std::int64_t n,
                     std::int64_t k, T alpha, const T* a, std::int64_t lda, const T* b,
                     std::int64_t ldb, T beta, T* c, std::int64_t ldc) {
  if (k == 1 && m * n <= kMaxRankOneLoop) {
    return rank_one_product(ta, tb, m, n, alpha, a, lda, b, ldb, beta, c, ldc);
  }
#if defined(GPURNN_HAVE_ONEDNN)
  // Every f32 product through oneDNN's matmul, in fixed pieces on the worker pool; in a bf16 call
  // (use_half_weights, use_half_operands) a product of bf16 values through its bf16 matmul.
  if constexpr (std::is_same_v<T, float>) {
    if (alpha == 1.0f && m > 0 && n > 0 && k > 0) {
      if ((bf16_operands || bf16_of(b) != nullptr) && onednn_bf16_matmul()) {
        return matmul_bf16(ta, tb, m, n, k, a, lda, b, ldb, bf16_of(b), beta, c, ldc);
      }
      return matmul(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
    }
  }
#endif
  pooled_gemm<T>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

namespace {

// The rows from which the input projection multiplies by W_ih packed. One thread, standalone
// oneDNN matmuls, W_ih [4H, H]: W as given against reorder + packed product was 0.64-0.74 at 25
// rows, 0.80-0.87 at 100, 0.88-0.91 at 200, 0.96-1.02 at 400, 0.94-1.05 at 800 (H 256-1024),
// while the packed product alone was 4-27% faster below 400 rows and -4% to +6% above: a reorder
// per call pays from about 400 rows, and prepared weights gain below it too but would then
// differ in the last bits from the weights' own calls.
constexpr std::int64_t kMinPackedProjectionRows = 400;

// The handle of one GEMM by weights: gemv_f32.h at batch 1, else W packed for oneDNN (f32
// built with it), else pooled_gemm at every step. The choice does not depend on the thread
// count, so neither do the results (worker_pool.h). `kept` handles belong to prepared weights; `share` is a handle of
// the same cache whose packed copy of the same W this one may reuse.
// `bf16_w`: W's bf16 bits in a bf16 call (CpuOps::use_half_weights), else null.
template <class T>
typename CpuOps<T>::FixedGemm make_fixed_gemm(const engine::FixedWeightGemm<T>& g, bool kept,
                                              const typename CpuOps<T>::FixedGemm* share,
                                              const std::uint16_t* bf16_w) {
  typename CpuOps<T>::FixedGemm handle{g, nullptr};
#if defined(GPURNN_HAVE_ONEDNN)
  if constexpr (std::is_same_v<T, float>) {
    if (g.m == 1) {
      handle.row_gemv = true;
      if (g.tw == engine::Trans::yes) handle.bf16_w = bf16_w;
    } else {
      const bool bf16 = bf16_w != nullptr && onednn_bf16_matmul();
      handle.packed = std::make_shared<const PackedGemm>(
          g, kept ? PackedGemm::Storage::kept : PackedGemm::Storage::per_call,
          share != nullptr ? share->packed.get() : nullptr, bf16 ? bf16_w : nullptr);
    }
  }
#else
  (void)kept, (void)share, (void)bf16_w;
#endif
  return handle;
}

}  // namespace

template <class T>
typename CpuOps<T>::FixedGemm CpuOps<T>::prepare_fixed_gemm(const engine::FixedWeightGemm<T>& g) {
  // A bf16 call's handles exist only in its forward (transposed W); the backward's GEMMs by the
  // same W are untransposed, so a prepared cache never mixes the two under one key.
  const std::uint16_t* bf16_w = bf16_of(g.w);
  if (prepared == nullptr) return make_fixed_gemm<T>(g, false, nullptr, bf16_w);
  return prepared->find_or_make(g, [&](const auto& made) {
    const FixedGemm* share = nullptr;
    for (const auto& e : made) {
      if (e.handle.packed != nullptr && e.gemm.w == g.w && e.gemm.tw == g.tw && e.gemm.ldw == g.ldw) share = &e.handle;
    }
    return make_fixed_gemm<T>(g, true, share, bf16_w);
  });
}

template <class T>
bool CpuOps<T>::prepare_packs() {
#if defined(GPURNN_HAVE_ONEDNN)
  return std::is_same_v<T, float>;
#else
  return false;
#endif
}

template <class T>
std::size_t CpuOps<T>::packed_bytes(const PreparedCache& cache) {
#if !defined(GPURNN_HAVE_ONEDNN)
  (void)cache;
  return 0;  // nothing is packed without oneDNN (make_fixed_gemm)
#else
  return cache.visit([](const auto& entries) {
    std::vector<const void*> seen;
    std::size_t bytes = 0;
    for (const auto& e : entries) {
      if (e.handle.packed == nullptr) continue;
      const void* data = e.handle.packed->packed_data();
      if (std::find(seen.begin(), seen.end(), data) != seen.end()) continue;
      seen.push_back(data);
      bytes += e.handle.packed->packed_bytes();
    }
    return bytes;
  });
#endif
}

template <class T>
void CpuOps<T>::run_fixed_gemm(const FixedGemm& g, const T* a, T* c) {
  const engine::FixedWeightGemm<T>& s = g.gemm;
#if defined(GPURNN_HAVE_ONEDNN)
  if constexpr (std::is_same_v<T, float>) {
    if (g.packed != nullptr) return g.packed->run(a, c);
    if (g.row_gemv && g.bf16_w != nullptr) return gemv_wt_bf16(s.n, s.k, a, g.bf16_w, s.ldw, s.beta, c);
    if (g.row_gemv && s.tw == engine::Trans::yes) return gemv_wt_f32(s.n, s.k, a, s.w, s.ldw, s.beta, c);
    if (g.row_gemv) return gemv_w_f32(s.n, s.k, a, s.w, s.ldw, s.beta, c);
  }
#endif
  pooled_gemm<T>(engine::Trans::no, s.tw, s.m, s.n, s.k, T(1), a, s.lda, s.w, s.ldw, s.beta, c, s.ldc);
}

template <class T>
void CpuOps<T>::gemm_bias_rows(const engine::FixedWeightGemm<T>& g, const T* a, const T* bias, T* c) {
#if defined(GPURNN_HAVE_ONEDNN)
  // Same rule as prepare_fixed_gemm. From kMinPackedProjectionRows rows on, W_ih is multiplied
  // in oneDNN's packed layout: packed for this call, or, for prepared weights, once for every
  // T·B (the layout does not depend on the rows), kept under the GEMM's key with m = 0. Below
  // that, oneDNN's matmul on W as given, on both paths. One rule for both, so prepared weights
  // give the same bits as the weights.
  if constexpr (std::is_same_v<T, float>) {
    // bf16 (use_half_weights): one row is a bf16 GEMV; more, oneDNN's bf16 matmul on W packed in
    // bf16 (for this call, or once for prepared weights).
    if (const std::uint16_t* bf16_w = bf16_of(g.w); bf16_w != nullptr && g.tw == engine::Trans::yes) {
      if (g.m == 1) {
        gemv_wt_bf16(g.n, g.k, a, bf16_w, g.ldw, g.beta, c);
        return add_bias_rows(c, g.m, g.n, g.ldc, bias);
      }
      if (onednn_bf16_matmul()) {
        if (prepared == nullptr) {
          return PackedGemm(g, PackedGemm::Storage::per_call, nullptr, bf16_w).run_rows(g.m, a, bias, c);
        }
        engine::FixedWeightGemm<T> any_rows = g;
        any_rows.m = 0;
        const FixedGemm handle = prepared->find_or_make(any_rows, [&](const auto&) {
          return FixedGemm{any_rows, std::make_shared<const PackedGemm>(g, PackedGemm::Storage::kept, nullptr, bf16_w)};
        });
        return handle.packed->run_rows(g.m, a, bias, c);
      }
    }
    // One row (a single step of a single sequence: a streaming cell's call) is a GEMV, as the
    // recurrent product of a batch of one is: no oneDNN primitive for a [1, k] x [k, n] product.
    if (g.m == 1 && g.tw == engine::Trans::yes) {
      gemv_wt_f32(g.n, g.k, a, g.w, g.ldw, g.beta, c);
      return add_bias_rows(c, g.m, g.n, g.ldc, bias);
    }
    if (g.m < kMinPackedProjectionRows) return matmul_bias_rows(g, a, bias, c);
    if (prepared == nullptr) return PackedGemm(g, PackedGemm::Storage::per_call).run_rows(g.m, a, bias, c);
    engine::FixedWeightGemm<T> any_rows = g;
    any_rows.m = 0;
    const FixedGemm handle = prepared->find_or_make(any_rows, [&](const auto&) {
      return FixedGemm{any_rows, std::make_shared<const PackedGemm>(g, PackedGemm::Storage::kept)};
    });
    return handle.packed->run_rows(g.m, a, bias, c);
  }
#endif
  pooled_gemm<T>(engine::Trans::no, g.tw, g.m, g.n, g.k, T(1), a, g.lda, g.w, g.ldw, g.beta, c, g.ldc);
  add_bias_rows(c, g.m, g.n, g.ldc, bias);
}

template <class T>
void CpuOps<T>::add_bias_rows(T* rows, std::int64_t count, std::int64_t n, std::int64_t ld,
                              const T* bias) {
  if (bias == nullptr) return;
  for (std::int64_t r = 0; r < count; ++r) {
    for (std::int64_t j = 0; j < n; ++j) rows[r * ld + j] += bias[j];
  }
}

template <class T>
void CpuOps<T>::copy(T* dst, const T* src, std::int64_t n) {
  copy_row(dst, src, n);
}

template <class T>
void CpuOps<T>::copy_or_zero(T* dst, const T* src, std::int64_t n) {
  if (src != nullptr) {
    copy_row(dst, src, n);
  } else {
    std::fill(dst, dst + n, T(0));
  }
}

template <class T>
void CpuOps<T>::transpose_leading(const T* src, T* dst, std::int64_t a, std::int64_t b,
                                  std::int64_t f) {
  for (std::int64_t i = 0; i < a; ++i) {
    for (std::int64_t j = 0; j < b; ++j) copy_row(dst + (j * a + i) * f, src + (i * b + j) * f, f);
  }
}

template <class T>
void CpuOps<T>::apply_dropout(T* values, std::int64_t count, std::uint64_t seed, int layer,
                              double p) {
  for (std::int64_t k = 0; k < count; ++k) {
    values[k] *= static_cast<T>(detail::dropout_scale(seed, static_cast<std::uint64_t>(layer),
                                                      static_cast<std::uint64_t>(k), p));
  }
}

template <class T>
void CpuOps<T>::round_to_half(DType half, float* values, std::int64_t n) {
  detail::round_to_half(half, values, n);
}

template <class T>
void CpuOps<T>::use_half_weights(DType half, const float* widened, const void* half_data, std::int64_t count) {
  if (half != DType::bf16) return;  // f16 multiplies by the widened copy
  bf16_weights = {widened, static_cast<const std::uint16_t*>(half_data), count};
}

template <class T>
void CpuOps<T>::use_half_operands(DType half) {
  bf16_operands = half == DType::bf16;  // f16 multiplies in f32
}

template <class T>
const std::uint16_t* CpuOps<T>::bf16_of(const T* w) const {
  if constexpr (std::is_same_v<T, float>) {
    if (bf16_weights.bits != nullptr && w >= bf16_weights.widened && w < bf16_weights.widened + bf16_weights.count) {
      return bf16_weights.bits + (w - bf16_weights.widened);
    }
  } else {
    (void)w;
  }
  return nullptr;
}

template <class T>
void CpuOps<T>::column_sums(const T* rows, std::int64_t count, std::int64_t n, std::int64_t ld,
                            T* out, bool accumulate) {
  // Blocks of columns, each summed over every row by one thread (the same order as serial).
  constexpr std::int64_t kBlock = 256;
  const std::int64_t blocks = (n + kBlock - 1) / kBlock;
  for_each_item<T>(blocks, kBlock * count, [&](std::int64_t blk) {
    const std::int64_t j0 = blk * kBlock, j1 = std::min(n, j0 + kBlock);
    if (!accumulate) std::fill(out + j0, out + j1, T(0));
    for (std::int64_t r = 0; r < count; ++r) {
      for (std::int64_t j = j0; j < j1; ++j) out[j] += rows[r * ld + j];
    }
  });
}

template <class T>
void CpuOps<T>::forward_step(const engine::ForwardStep<T>& s) {
  const std::int64_t H = s.hidden, Ho = s.state, gh = detail::cell_traits(s.cell).gates * H;
  for_each_item<T>(s.batch, s.gate_stride, [&](std::int64_t b) {
    T* gates = s.gates + b * s.gate_stride;
    const bool lstm = s.c_next != nullptr;
    if (active(s.lengths, b, s.t)) {
      T* out = s.m ? s.m + b * H : s.h_next + b * Ho;
      cell_forward(s.cell, H, gates, s.hh + b * gh, s.b_hh, s.h_prev + b * Ho,
                   lstm ? s.c_prev + b * H : nullptr, lstm ? s.c_next + b * H : nullptr, out);
    } else {
      std::fill(gates, gates + s.gate_stride, T(0));
      if (s.m) std::fill(s.m + b * H, s.m + (b + 1) * H, T(0));
      if (lstm) copy_row(s.c_next + b * H, s.c_prev + b * H, H);
    }
  });
}

template <class T>
void CpuOps<T>::finish_forward_step(const engine::StepOutput<T>& s) {
  for_each_item<T>(s.batch, s.state, [&](std::int64_t b) {
    T* y = s.y + b * s.ldy;
    if (active(s.lengths, b, s.t)) {
      copy_row(y, s.h_next + b * s.state, s.state);
    } else {
      copy_row(s.h_next + b * s.state, s.h_prev + b * s.state, s.state);
      std::fill(y, y + s.state, T(0));
    }
  });
}

template <class T>
void CpuOps<T>::output_gradient(const engine::OutputGradient<T>& s) {
  for_each_item<T>(s.batch, s.state, [&](std::int64_t b) {
    T* dh = s.dh + b * s.state;
    if (active(s.lengths, b, s.t)) {
      const T* dy = s.dy + b * s.ldy;
      for (std::int64_t k = 0; k < s.state; ++k) dh[k] = s.carry[b * s.state + k] + dy[k];
    } else {
      std::fill(dh, dh + s.state, T(0));
    }
  });
}

template <class T>
void CpuOps<T>::backward_step(const engine::BackwardStep<T>& s) {
  const std::int64_t H = s.hidden, Ho = s.state, gh = detail::cell_traits(s.cell).gates * H;
  const bool lstm = s.dc != nullptr;
  for_each_item<T>(s.batch, gh, [&](std::int64_t b) {
    T* dh = s.dh + b * Ho;
    T* d_ih = s.d_ih + b * gh;
    T* d_hh = s.d_hh ? s.d_hh + b * gh : nullptr;
    if (active(s.lengths, b, s.t)) {
      cell_backward(s.cell, H, s.gates + b * s.gate_stride, lstm ? s.c_prev + b * H : nullptr,
                    lstm ? s.c_next + b * H : nullptr, s.h_prev + b * Ho, s.dm ? s.dm + b * H : dh,
                    dh, lstm ? s.dc + b * H : nullptr, d_ih, d_hh);
      if (!detail::cell_traits(s.cell).blends_state) std::fill(dh, dh + Ho, T(0));
    } else {
      std::fill(d_ih, d_ih + gh, T(0));
      if (d_hh) std::fill(d_hh, d_hh + gh, T(0));
      copy_row(dh, s.carry + b * Ho, Ho);  // a frozen sequence passes its gradient through
    }
  });
}

template struct CpuOps<float>;
template struct CpuOps<double>;

}  // namespace gpurnn::cpu
