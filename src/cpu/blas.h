#pragma once
// The BLAS calls the CPU backend makes, for float and double, row-major:
// C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C, op = transpose when asked.
// A single-row product (batch 1 in the time loop) goes to GEMV, which OpenBLAS runs at memory
// bandwidth where its GEMM does not.

#include <cblas.h>

#include <cstdint>

#include "cpu/gemm_chunks.h"
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

// gemm above in fixed pieces (gemm_chunks.h) on the worker pool, OpenBLAS on one thread in each
// (the cpu backend keeps OpenBLAS's own pool at one thread: worker_pool.h).
template <class T>
void pooled_gemm(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const T* a,
                 std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc) {
  chunked_gemm(ta, tb, m, n, a, lda, b, ldb, c, ldc, [&](const GemmChunk& p, const T* pa, const T* pb, T* pc) {
    gemm<T>(ta, tb, p.rows, p.cols, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
  });
}

// The training ops' products (cpu/cpu_train_ops.cpp): an f32 product larger than OpenBLAS runs
// on its calling thread goes to oneDNN's matmul (packed_gemm.h) when built with it, and every
// other one to pooled_gemm; both in fixed pieces on the worker pool.
void training_gemm(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k,
                   const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta,
                   float* c, std::int64_t ldc);
void training_gemm(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k,
                   const double* a, std::int64_t lda, const double* b, std::int64_t ldb, double beta,
                   double* c, std::int64_t ldc);

// Sets the BLAS thread count (a process-wide setting of OpenBLAS); n <= 0 leaves it unchanged.
void set_blas_threads(int n);

}  // namespace gpurnn::cpu
