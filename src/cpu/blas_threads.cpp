#include "cpu/blas.h"

#if defined(GPURNN_HAVE_ONEDNN)
#include "cpu/packed_gemm.h"
#endif

#if defined(GPURNN_HAVE_OPENBLAS)
extern "C" {
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
}
#endif

namespace gpurnn::cpu {

void set_blas_threads(int n) {
#if defined(GPURNN_HAVE_OPENBLAS)
  if (n > 0 && n != openblas_get_num_threads()) openblas_set_num_threads(n);
#else
  (void)n;
#endif
}

void training_gemm(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k,
                   const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta,
                   float* c, std::int64_t ldc) {
#if defined(GPURNN_HAVE_ONEDNN)
  // OpenBLAS 0.3 is at its best below 4 * 65536 multiply-adds, where it would not use its pool.
  constexpr std::int64_t kOpenBlasSingleThreadLimit = 4 * 65536;
  if (m * n * k > kOpenBlasSingleThreadLimit) return matmul(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
#endif
  pooled_gemm(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
}

void training_gemm(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k,
                   const double* a, std::int64_t lda, const double* b, std::int64_t ldb, double beta,
                   double* c, std::int64_t ldc) {
  pooled_gemm(ta, tb, m, n, k, 1.0, a, lda, b, ldb, beta, c, ldc);
}


}  // namespace gpurnn::cpu
