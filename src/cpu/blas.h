#pragma once
// The BLAS calls the CPU backend makes, for float and double, row-major:
// C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C, op = transpose when asked.
// A single-row product (batch 1 in the time loop) goes to GEMV, which OpenBLAS runs at memory
// bandwidth where its GEMM does not.

#include <cblas.h>

#include <cstdint>

#include "engine/step_ops.h"

namespace gpurnn::cpu {

using engine::Trans;

namespace blas_detail {

inline CBLAS_TRANSPOSE op(Trans t) { return t == Trans::yes ? CblasTrans : CblasNoTrans; }
inline int i(std::int64_t v) { return static_cast<int>(v); }

inline void gemm(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                 const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta,
                 float* c, std::int64_t ldc) {
  cblas_sgemm(CblasRowMajor, op(ta), op(tb), i(m), i(n), i(k), alpha, a, i(lda), b, i(ldb), beta,
              c, i(ldc));
}
inline void gemm(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k, double alpha,
                 const double* a, std::int64_t lda, const double* b, std::int64_t ldb, double beta,
                 double* c, std::int64_t ldc) {
  cblas_dgemm(CblasRowMajor, op(ta), op(tb), i(m), i(n), i(k), alpha, a, i(lda), b, i(ldb), beta,
              c, i(ldc));
}
inline void gemv(Trans t, std::int64_t rows, std::int64_t cols, float alpha, const float* a,
                 std::int64_t lda, const float* x, std::int64_t incx, float beta, float* y) {
  cblas_sgemv(CblasRowMajor, op(t), i(rows), i(cols), alpha, a, i(lda), x, i(incx), beta, y, 1);
}
inline void gemv(Trans t, std::int64_t rows, std::int64_t cols, double alpha, const double* a,
                 std::int64_t lda, const double* x, std::int64_t incx, double beta, double* y) {
  cblas_dgemv(CblasRowMajor, op(t), i(rows), i(cols), alpha, a, i(lda), x, i(incx), beta, y, 1);
}

}  // namespace blas_detail

template <class T>
void gemm(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const T* a,
          std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc) {
  if (m == 1) {
    // c[0, :] = alpha * op(B)ᵀ-applied-to the single row of op(A): a GEMV with B as the matrix.
    // The row of op(A) is contiguous unless A is transposed, when its elements are lda apart.
    const std::int64_t inc = ta == Trans::yes ? lda : 1;
    if (tb == Trans::yes) {
      blas_detail::gemv(Trans::no, n, k, alpha, b, ldb, a, inc, beta, c);  // B is [n, k]
    } else {
      blas_detail::gemv(Trans::yes, k, n, alpha, b, ldb, a, inc, beta, c);  // B is [k, n]
    }
    return;
  }
  blas_detail::gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// The training ops' products (cpu/cpu_train_ops.cpp): with oneDNN and more than one thread,
// an f32 product that OpenBLAS would spread over its own pool goes to oneDNN's matmul instead,
// on the OpenMP threads the RNN backend's GEMMs use, so that the two pools never spin next to
// each other (cpu/packed_gemm.h); smaller ones and f64 run cpu::gemm above.
void training_gemm(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k,
                   const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta,
                   float* c, std::int64_t ldc);
void training_gemm(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k,
                   const double* a, std::int64_t lda, const double* b, std::int64_t ldb, double beta,
                   double* c, std::int64_t ldc);

// Sets the BLAS thread count (a process-wide setting of OpenBLAS); n <= 0 leaves it unchanged.
void set_blas_threads(int n);
int blas_threads();

}  // namespace gpurnn::cpu
