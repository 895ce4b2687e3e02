#pragma once
// The BLAS calls the CPU backend makes, as one trait over float and double, row-major.
// C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C, with op = transpose when asked.

#include <cblas.h>

#include <cstdint>

namespace gpurnn::cpu {

enum class Trans { no, yes };

template <class T>
struct Blas;

template <>
struct Blas<float> {
  static void gemm(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                   const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta,
                   float* c, std::int64_t ldc) {
    cblas_sgemm(CblasRowMajor, ta == Trans::yes ? CblasTrans : CblasNoTrans,
                tb == Trans::yes ? CblasTrans : CblasNoTrans, static_cast<int>(m),
                static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda), b,
                static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
  }
};

template <>
struct Blas<double> {
  static void gemm(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k, double alpha,
                   const double* a, std::int64_t lda, const double* b, std::int64_t ldb,
                   double beta, double* c, std::int64_t ldc) {
    cblas_dgemm(CblasRowMajor, ta == Trans::yes ? CblasTrans : CblasNoTrans,
                tb == Trans::yes ? CblasTrans : CblasNoTrans, static_cast<int>(m),
                static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda), b,
                static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
  }
};

// Sets the BLAS thread count (a process-wide setting of OpenBLAS); n <= 0 leaves it unchanged.
void set_blas_threads(int n);
int blas_threads();

}  // namespace gpurnn::cpu
