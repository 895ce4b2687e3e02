#pragma once
// The cpu TrainOps' attention calls (see gpurnn/train/ops.h, "Attention"), one template per call
// over the floating type T. Arguments are already checked (train_op_checks.h). Time-major
// layouts: batch row b of a [T, B, D] tensor is the T x D matrix starting at b*D with a row
// stride of B*D, so the batched products are one strided GEMM per batch row. Sums that are not
// GEMMs run in double, as the rest of the cpu ops do.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "cpu/blas.h"
#include "cpu/vector_math.h"
#include "gpurnn/error.h"
#include "gpurnn/train/ops.h"

namespace gpurnn::train::cpu_attention {

using engine::Trans;

// c[m, n] (+)= op(a) · op(b) with an inner size k, c with row stride ldc. Sizes of 0 are
// handled here because BLAS refuses leading dimensions of 0.
template <class T>
void strided_product(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k, const T* a,
                     std::int64_t lda, const T* b, std::int64_t ldb, bool accumulate, T* c, std::int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate) {
      for (std::int64_t r = 0; r < m; ++r) std::fill(c + r * ldc, c + r * ldc + n, T(0));
    }
    return;
  }
  cpu::training_gemm(ta, tb, m, n, k, a, lda, b, ldb, accumulate ? T(1) : T(0), c, ldc);
}

// For every batch row r of `rows`: c_r (+)= op(a_r) · op(b_r), where x_r is the matrix of row r
// of a time-major tensor [X, rows, x_width] (it starts at r * x_width, row stride rows * x_width).
template <class T>
void per_row_product(std::int64_t rows, Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k,
                     const T* a, std::int64_t a_width, const T* b, std::int64_t b_width, bool accumulate, T* c,
                     std::int64_t c_width) {
  for (std::int64_t r = 0; r < rows; ++r) {
    strided_product<T>(ta, tb, m, n, k, a + r * a_width, rows * a_width, b + r * b_width, rows * b_width,
                       accumulate, c + r * c_width, rows * c_width);
  }
}

template <class T>
void attention_scores(ConstTensorView query, ConstTensorView keys, TensorView scores) {
  const std::int64_t t = query.dim(0), b = query.dim(1), d = query.dim(2), s = keys.dim(0);
  // scores_b[T, S] = q_b[T, D] · k_b[S, D]^T
  per_row_product<T>(b, Trans::no, Trans::yes, t, s, d, query.data_as<T>(), d, keys.data_as<T>(), d, false,
                     scores.data_as<T>(), s);
}

template <class T>
void attention_scores_backward(ConstTensorView query, ConstTensorView keys, ConstTensorView dscores,
                               TensorView dquery, TensorView dkeys, bool accumulate) {
  const std::int64_t t = query.dim(0), b = query.dim(1), d = query.dim(2), s = keys.dim(0);
  const T* ds = dscores.data_as<T>();
  if (!dquery.empty()) {  // dq_b[T, D] (+)= ds_b[T, S] · k_b[S, D]
    per_row_product<T>(b, Trans::no, Trans::no, t, d, s, ds, s, keys.data_as<T>(), d, accumulate,
                       dquery.data_as<T>(), d);
  }
  if (!dkeys.empty()) {  // dk_b[S, D] (+)= ds_b[T, S]^T · q_b[T, D]
    per_row_product<T>(b, Trans::yes, Trans::no, s, d, t, ds, s, query.data_as<T>(), d, accumulate,
                       dkeys.data_as<T>(), d);
  }
}

template <class T>
void attention_context(ConstTensorView weights, ConstTensorView values, TensorView context) {
  const std::int64_t t = weights.dim(0), b = weights.dim(1), s = weights.dim(2), d = values.dim(2);
  // ctx_b[T, D] = w_b[T, S] · v_b[S, D]
  per_row_product<T>(b, Trans::no, Trans::no, t, d, s, weights.data_as<T>(), s, values.data_as<T>(), d, false,
                     context.data_as<T>(), d);
}

template <class T>
void attention_context_backward(ConstTensorView weights, ConstTensorView values, ConstTensorView dcontext,
                                TensorView dweights, TensorView dvalues, bool accumulate) {
  const std::int64_t t = weights.dim(0), b = weights.dim(1), s = weights.dim(2), d = values.dim(2);
  const T* dc = dcontext.data_as<T>();
  if (!dweights.empty()) {  // dw_b[T, S] = dc_b[T, D] · v_b[S, D]^T
    per_row_product<T>(b, Trans::no, Trans::yes, t, s, d, dc, d, values.data_as<T>(), d, false,
                       dweights.data_as<T>(), s);
  }
  if (!dvalues.empty()) {  // dv_b[S, D] (+)= w_b[T, S]^T · dc_b[T, D]
    per_row_product<T>(b, Trans::yes, Trans::no, s, d, t, weights.data_as<T>(), s, dc, d, accumulate,
                       dvalues.data_as<T>(), d);
  }
}

// th[j] = tanh(k[j] + q[j]) for j < a, in T: f32 through the vectorised tanh of
// cpu/vector_math.h (within 2 ulp; libm's double tanh was half of a pointer net's training time),
// f64 through std::tanh.
inline void tanh_of_sums(const float* k, const float* q, std::int64_t a, float* th) {
  for (std::int64_t j = 0; j < a; ++j) th[j] = cpu::vmath::tanh_f32(k[j] + q[j]);
}
inline void tanh_of_sums(const double* k, const double* q, std::int64_t a, double* th) {
  for (std::int64_t j = 0; j < a; ++j) th[j] = std::tanh(k[j] + q[j]);
}

template <class T>
void additive_scores(ConstTensorView query, ConstTensorView keys, ConstTensorView v, TensorView scores) {
  const std::int64_t t = query.dim(0), b = query.dim(1), a = query.dim(2), s = keys.dim(0);
  const T* q = query.data_as<T>();
  const T* k = keys.data_as<T>();
  const T* pv = v.data_as<T>();
  T* out = scores.data_as<T>();
  std::vector<T> th(static_cast<std::size_t>(a));
  for (std::int64_t ti = 0; ti < t; ++ti) {
    for (std::int64_t r = 0; r < b; ++r) {
      const T* qrow = q + (ti * b + r) * a;
      for (std::int64_t si = 0; si < s; ++si) {
        tanh_of_sums(k + (si * b + r) * a, qrow, a, th.data());
        double sum = 0.0;
        for (std::int64_t j = 0; j < a; ++j) sum += static_cast<double>(pv[j]) * static_cast<double>(th[j]);
        out[(ti * b + r) * s + si] = static_cast<T>(sum);
      }
    }
  }
}

// out (+)= sums, rounded to T once.
template <class T>
void store_sums(const std::vector<double>& sums, bool accumulate, TensorView out) {
  if (out.empty()) return;
  T* p = out.data_as<T>();
  for (std::size_t i = 0; i < sums.size(); ++i) {
    p[i] = static_cast<T>(accumulate ? static_cast<double>(p[i]) + sums[i] : sums[i]);
  }
}

template <class T>
void additive_scores_backward(ConstTensorView query, ConstTensorView keys, ConstTensorView v,
                              ConstTensorView dscores, TensorView dquery, TensorView dkeys, TensorView dv,
                              bool accumulate) {
  const std::int64_t t = query.dim(0), b = query.dim(1), a = query.dim(2), s = keys.dim(0);
  const T* q = query.data_as<T>();
  const T* k = keys.data_as<T>();
  const T* pv = v.data_as<T>();
  const T* ds = dscores.data_as<T>();
  std::vector<double> gq(dquery.empty() ? 0 : static_cast<std::size_t>(t * b * a));
  std::vector<double> gk(dkeys.empty() ? 0 : static_cast<std::size_t>(s * b * a));
  std::vector<double> gv(dv.empty() ? 0 : static_cast<std::size_t>(a));
  std::vector<T> tanh_row(static_cast<std::size_t>(a));
  for (std::int64_t ti = 0; ti < t; ++ti) {
    for (std::int64_t r = 0; r < b; ++r) {
      const std::int64_t qoff = (ti * b + r) * a;
      for (std::int64_t si = 0; si < s; ++si) {
        const std::int64_t koff = (si * b + r) * a;
        const double d = static_cast<double>(ds[(ti * b + r) * s + si]);
        if (d == 0.0) continue;  // masked positions: every term below is 0
        tanh_of_sums(k + koff, q + qoff, a, tanh_row.data());
        for (std::int64_t j = 0; j < a; ++j) {
          const double th = static_cast<double>(tanh_row[j]);
          const double g = d * static_cast<double>(pv[j]) * (1.0 - th * th);
          if (!gq.empty()) gq[qoff + j] += g;
          if (!gk.empty()) gk[koff + j] += g;
          if (!gv.empty()) gv[j] += d * th;
        }
      }
    }
  }
  store_sums<T>(gq, accumulate, dquery);
  store_sums<T>(gk, accumulate, dkeys);
  store_sums<T>(gv, accumulate, dv);
}

// Every length in [1, S], checked before scores is touched.
inline void check_lengths(ConstTensorView lengths, std::int64_t s) {
  const std::int32_t* len = lengths.data_as<std::int32_t>();
  for (std::int64_t r = 0; r < lengths.numel(); ++r) {
    check_argument(len[r] >= 1 && len[r] <= s, "TrainOps::mask_scores", "lengths", [&] {
      return "has lengths[" + std::to_string(r) + "] = " + std::to_string(len[r]) + ", expected a value in [1, " +
             std::to_string(s) + "] (S = scores.dim(2))";
    });
  }
}

template <class T>
void mask_scores(TensorView scores, ConstTensorView lengths, ConstTensorView excluded) {
  const std::int64_t t = scores.dim(0), b = scores.dim(1), s = scores.dim(2);
  const std::int32_t* len = lengths.empty() ? nullptr : lengths.data_as<std::int32_t>();
  const std::uint8_t* ex = excluded.empty() ? nullptr : excluded.data_as<std::uint8_t>();
  T* p = scores.data_as<T>();
  const T minus_inf = -std::numeric_limits<T>::infinity();
  for (std::int64_t ti = 0; ti < t; ++ti) {
    for (std::int64_t r = 0; r < b; ++r) {
      const std::int64_t row = (ti * b + r) * s;
      const std::int64_t valid = len ? len[r] : s;
      for (std::int64_t si = 0; si < s; ++si) {
        if (si >= valid || (ex && ex[row + si] != 0)) p[row + si] = minus_inf;
      }
    }
  }
}

// Rows of the last dimension; y may be x (each element is read before it is written).
template <class T>
void softmax(ConstTensorView x, TensorView y) {
  const std::int64_t s = x.dim(x.rank() - 1);
  if (s == 0) return;
  const std::int64_t rows = x.numel() / s;
  const T* px = x.data_as<T>();
  T* py = y.data_as<T>();
  for (std::int64_t n = 0; n < rows; ++n) {
    const T* in = px + n * s;
    T* out = py + n * s;
    double mx = -std::numeric_limits<double>::infinity();
    for (std::int64_t j = 0; j < s; ++j) mx = std::max(mx, static_cast<double>(in[j]));
    if (mx == -std::numeric_limits<double>::infinity()) {  // every entry masked
      std::fill(out, out + s, T(0));
      continue;
    }
    double sum = 0.0;
    for (std::int64_t j = 0; j < s; ++j) sum += std::exp(static_cast<double>(in[j]) - mx);
    for (std::int64_t j = 0; j < s; ++j) out[j] = static_cast<T>(std::exp(static_cast<double>(in[j]) - mx) / sum);
  }
}

template <class T>
void softmax_backward(ConstTensorView y, ConstTensorView dy, TensorView dx) {
  const std::int64_t s = y.dim(y.rank() - 1);
  if (s == 0) return;
  const std::int64_t rows = y.numel() / s;
  const T* py = y.data_as<T>();
  const T* pdy = dy.data_as<T>();
  T* pdx = dx.data_as<T>();
  for (std::int64_t n = 0; n < rows; ++n) {
    const std::int64_t off = n * s;
    double dot = 0.0;
    for (std::int64_t j = 0; j < s; ++j) dot += static_cast<double>(pdy[off + j]) * static_cast<double>(py[off + j]);
    for (std::int64_t j = 0; j < s; ++j) {
      pdx[off + j] = static_cast<T>(static_cast<double>(py[off + j]) * (static_cast<double>(pdy[off + j]) - dot));
    }
  }
}

template <class T>
void tanh_forward(ConstTensorView x, TensorView y) {
  const T* px = x.data_as<T>();
  T* py = y.data_as<T>();
  for (std::int64_t i = 0; i < x.numel(); ++i) py[i] = static_cast<T>(std::tanh(static_cast<double>(px[i])));
}

template <class T>
void tanh_backward(ConstTensorView y, ConstTensorView dy, TensorView dx) {
  const T* py = y.data_as<T>();
  const T* pdy = dy.data_as<T>();
  T* pdx = dx.data_as<T>();
  for (std::int64_t i = 0; i < y.numel(); ++i) {
    const double yi = static_cast<double>(py[i]);
    pdx[i] = static_cast<T>(static_cast<double>(pdy[i]) * (1.0 - yi * yi));
  }
}

template <class T>
void add_scaled(ConstTensorView x, double alpha, TensorView y) {
  const T* px = x.data_as<T>();
  T* py = y.data_as<T>();
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    py[i] = static_cast<T>(static_cast<double>(py[i]) + alpha * static_cast<double>(px[i]));
  }
}

}  // namespace gpurnn::train::cpu_attention
