// cuBLAS strided-batched GEMM for row-major operands (see batched_gemm.h for the mapping).

#include "cuda/batched_gemm.h"

#include <climits>
#include <string>

#include "cuda/cublas_handle.h"
#include "kernels/cuda_status.h"
#include "cuda/cublas_sizes.h"
#include "gpurnn/error.h"

namespace gpurnn::cuda {
namespace {

cublasOperation_t op(engine::Trans t) { return t == engine::Trans::yes ? CUBLAS_OP_T : CUBLAS_OP_N; }

int checked_int(std::int64_t v, const char* what) { return cublas_int(v, what, "TrainOps (batched)"); }

// The column-major call: operands swapped (Cᵀ = op(B)ᵀ op(A)ᵀ), n and m swapped.
cublasStatus_t column_major(cublasHandle_t h, cublasOperation_t ob, cublasOperation_t oa, int n, int m, int k,
                            const float* alpha, const float* b, int ldb, long long sb, const float* a, int lda,
                            long long sa, const float* beta, float* c, int ldc, long long sc, int batch) {
  return cublasSgemmStridedBatched(h, ob, oa, n, m, k, alpha, b, ldb, sb, a, lda, sa, beta, c, ldc, sc, batch);
}
cublasStatus_t column_major(cublasHandle_t h, cublasOperation_t ob, cublasOperation_t oa, int n, int m, int k,
                            const double* alpha, const double* b, int ldb, long long sb, const double* a,
                            int lda, long long sa, const double* beta, double* c, int ldc, long long sc,
                            int batch) {
  return cublasDgemmStridedBatched(h, ob, oa, n, m, k, alpha, b, ldb, sb, a, lda, sa, beta, c, ldc, sc, batch);
}

}  // namespace

template <class T>
void batched_gemm(cublasHandle_t handle, cudaStream_t stream, engine::Trans ta, engine::Trans tb,
                  std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const T* a, std::int64_t lda,
                  std::int64_t stride_a, const T* b, std::int64_t ldb, std::int64_t stride_b, T beta, T* c,
                  std::int64_t ldc, std::int64_t stride_c, std::int64_t batch) {
  const int im = checked_int(m, "row count"), in = checked_int(n, "column count");
  const int ik = checked_int(k, "inner size"), ibatch = checked_int(batch, "batch count");
  const int ilda = checked_int(lda, "leading dimension"), ildb = checked_int(ldb, "leading dimension");
  const int ildc = checked_int(ldc, "leading dimension");
  const CublasStreamScope scope(handle, stream);
  check_cublas(column_major(handle, op(tb), op(ta), in, im, ik, &alpha, b, ildb, stride_b, a, ilda, stride_a,
                            &beta, c, ildc, stride_c, ibatch),
               sizeof(T) == sizeof(float) ? "cublasSgemmStridedBatched" : "cublasDgemmStridedBatched");
}

template void batched_gemm<float>(cublasHandle_t, cudaStream_t, engine::Trans, engine::Trans, std::int64_t,
                                  std::int64_t, std::int64_t, float, const float*, std::int64_t, std::int64_t,
                                  const float*, std::int64_t, std::int64_t, float, float*, std::int64_t,
                                  std::int64_t, std::int64_t);
template void batched_gemm<double>(cublasHandle_t, cudaStream_t, engine::Trans, engine::Trans, std::int64_t,
                                   std::int64_t, std::int64_t, double, const double*, std::int64_t, std::int64_t,
                                   const double*, std::int64_t, std::int64_t, double, double*, std::int64_t,
                                   std::int64_t, std::int64_t);

}  // namespace gpurnn::cuda
