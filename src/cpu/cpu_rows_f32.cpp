// The f32 pointwise rows (cpu_rows_f32.h). Each public function is compiled three times
// (target_clones: AVX-512F, AVX2, baseline x86-64) and the loader picks the widest the CPU
// runs, so the binary stays portable. Each loop runs over the H units of one gate slice with
// restrict-qualified slices, which lets GCC vectorise it (-O3 for this file, CMakeLists.txt).
// The clones need not give identical bits: vector_math.h writes no FMA, but GCC contracts
// a * b + c into one in the AVX-512 and AVX2 clones (GCC 12: 582,071 of 25,165,824 output bytes
// of a sweep differed from the baseline clone; bench/results/cpu-vs-onednn-2026-11-26.md). Each
// stays within the documented ulp bounds; -ffp-contract=off for this file would make them agree.

#include "cpu/cpu_rows_f32.h"

#include "cpu/vector_math.h"

#if defined(__x86_64__) && defined(__ELF__) && defined(__GNUC__)
#define GPURNN_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define GPURNN_VECTOR_CLONES
#endif
#if defined(__GNUC__)
#define GPURNN_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define GPURNN_ALWAYS_INLINE inline
#endif

namespace gpurnn::cpu {
namespace {

// The loops below form hh + b_hh as the shared cell code does (hh + 0 without a bias). The
// expressions are written out: a helper call in the loop, even inline, kept GCC 12 from
// vectorising the LSTM and GRU loops.

using vmath::sigmoid_f32;
using vmath::tanh_f32;

template <bool kBias>
GPURNN_ALWAYS_INLINE void lstm_forward(std::int64_t h, float* __restrict gi, float* __restrict gf,
                                       float* __restrict gg, float* __restrict go,
                                       const float* __restrict hh, const float* __restrict b,
                                       const float* __restrict c_prev, float* __restrict c_next,
                                       float* __restrict m) {
  for (std::int64_t j = 0; j < h; ++j) {
    const float i = sigmoid_f32(gi[j] + (hh[j] + (kBias ? b[j] : 0.0f)));
    const float f = sigmoid_f32(gf[j] + (hh[h + j] + (kBias ? b[h + j] : 0.0f)));
    const float g = tanh_f32(gg[j] + (hh[2 * h + j] + (kBias ? b[2 * h + j] : 0.0f)));
    const float o = sigmoid_f32(go[j] + (hh[3 * h + j] + (kBias ? b[3 * h + j] : 0.0f)));
    const float c = f * c_prev[j] + i * g;
    gi[j] = i;
    gf[j] = f;
    gg[j] = g;
    go[j] = o;
    c_next[j] = c;
    m[j] = o * tanh_f32(c);
  }
}

template <bool kBias>
GPURNN_ALWAYS_INLINE void gru_forward(std::int64_t h, float* __restrict gr, float* __restrict gz,
                                      float* __restrict gn, float* __restrict g_hhn,
                                      const float* __restrict hh, const float* __restrict b,
                                      const float* __restrict h_prev, float* __restrict h_next) {
  for (std::int64_t j = 0; j < h; ++j) {
    const float r = sigmoid_f32(gr[j] + (hh[j] + (kBias ? b[j] : 0.0f)));
    const float z = sigmoid_f32(gz[j] + (hh[h + j] + (kBias ? b[h + j] : 0.0f)));
    const float hh_n = (hh[2 * h + j] + (kBias ? b[2 * h + j] : 0.0f));
    const float n = tanh_f32(gn[j] + r * hh_n);
    gr[j] = r;
    gz[j] = z;
    gn[j] = n;
    g_hhn[j] = hh_n;
    h_next[j] = (1.0f - z) * n + z * h_prev[j];
  }
}

template <bool kBias, bool kSigmoid>
GPURNN_ALWAYS_INLINE void vanilla_forward(std::int64_t h, float* __restrict gates,
                                          const float* __restrict hh, const float* __restrict b,
                                          float* __restrict out) {
  for (std::int64_t j = 0; j < h; ++j) {
    const float pre = gates[j] + (hh[j] + (kBias ? b[j] : 0.0f));
    const float v = kSigmoid ? sigmoid_f32(pre) : tanh_f32(pre);
    gates[j] = v;
    out[j] = v;
  }
}

}  // namespace

GPURNN_VECTOR_CLONES
void lstm_forward_row_f32(std::int64_t h, float* gates, const float* hh, const float* b_hh,
                          const float* c_prev, float* c_next, float* m) {
  float* g = gates;
  if (b_hh != nullptr) {
    lstm_forward<true>(h, g, g + h, g + 2 * h, g + 3 * h, hh, b_hh, c_prev, c_next, m);
  } else {
    lstm_forward<false>(h, g, g + h, g + 2 * h, g + 3 * h, hh, hh, c_prev, c_next, m);
  }
}

GPURNN_VECTOR_CLONES
void gru_forward_row_f32(std::int64_t h, float* gates, const float* hh, const float* b_hh,
                         const float* h_prev, float* h_next) {
  float* g = gates;
  if (b_hh != nullptr) {
    gru_forward<true>(h, g, g + h, g + 2 * h, g + 3 * h, hh, b_hh, h_prev, h_next);
  } else {
    gru_forward<false>(h, g, g + h, g + 2 * h, g + 3 * h, hh, hh, h_prev, h_next);
  }
}

GPURNN_VECTOR_CLONES
void vanilla_forward_row_f32(CellKind cell, std::int64_t h, float* gates, const float* hh,
                             const float* b_hh, float* out) {
  const bool sigmoid = cell == CellKind::rnn_sigmoid;
  if (b_hh != nullptr) {
    if (sigmoid) vanilla_forward<true, true>(h, gates, hh, b_hh, out);
    else vanilla_forward<true, false>(h, gates, hh, b_hh, out);
  } else {
    if (sigmoid) vanilla_forward<false, true>(h, gates, hh, hh, out);
    else vanilla_forward<false, false>(h, gates, hh, hh, out);
  }
}

namespace {

GPURNN_ALWAYS_INLINE void lstm_backward(std::int64_t h, const float* __restrict gi,
                                        const float* __restrict gf, const float* __restrict gg,
                                        const float* __restrict go, const float* __restrict c_prev,
                                        const float* __restrict c_next, const float* __restrict dm,
                                        float* __restrict dc, float* __restrict di,
                                        float* __restrict df, float* __restrict dg,
                                        float* __restrict d_o) {
  for (std::int64_t j = 0; j < h; ++j) {
    const float i = gi[j], f = gf[j], g = gg[j], o = go[j];
    const float tc = tanh_f32(c_next[j]);
    const float d = dc[j] + dm[j] * o * (1.0f - tc * tc);
    di[j] = d * g * i * (1.0f - i);
    df[j] = d * c_prev[j] * f * (1.0f - f);
    dg[j] = d * i * (1.0f - g * g);
    d_o[j] = dm[j] * tc * o * (1.0f - o);
    dc[j] = d * f;
  }
}

}  // namespace

GPURNN_VECTOR_CLONES
void lstm_backward_row_f32(std::int64_t h, const float* gates, const float* c_prev,
                           const float* c_next, const float* dm, float* dc, float* d_ih) {
  lstm_backward(h, gates, gates + h, gates + 2 * h, gates + 3 * h, c_prev, c_next, dm, dc, d_ih,
                d_ih + h, d_ih + 2 * h, d_ih + 3 * h);
}

}  // namespace gpurnn::cpu
