#pragma once
// Row-major strided-batched GEMM on cuBLAS (internal header), for the attention products:
//
//   for p in [0, batch): C_p[m, n] = alpha * op(A_p)[m, k] · op(B_p)[k, n] + beta * C_p
//   with A_p = a + p*stride_a, B_p = b + p*stride_b, C_p = c + p*stride_c, row strides lda, ldb, ldc.
//
// Row-major C = op(A) op(B) is column-major Cᵀ = op(B)ᵀ op(A)ᵀ over the same buffers, so the
// call is cublas<t>gemmStridedBatched(op(B), op(A), n, m, k, B, ldb, stride_b, A, lda, stride_a,
// C, ldc, stride_c) (as CudaOps::gemm does unbatched). A time-major tensor [X, B, Y] is B
// row-major X x Y matrices: matrix p starts at p*Y, its rows B*Y apart (ld = B*Y, stride = Y);
// the matrices interleave, which cuBLAS allows as long as the outputs C_p do not overlap (they
// do not: C_p holds the elements (x, p, y) only).
//
// Preconditions (the caller's): m, n, k >= 1, batch >= 1, every size and leading dimension
// fits an int (Error(unsupported) otherwise). Queued on `stream`; the handle's stream and
// pointer mode are restored after.

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "engine/step_ops.h"

namespace gpurnn::cuda {

template <class T>
void batched_gemm(cublasHandle_t handle, cudaStream_t stream, engine::Trans ta, engine::Trans tb,
                  std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const T* a, std::int64_t lda,
                  std::int64_t stride_a, const T* b, std::int64_t ldb, std::int64_t stride_b, T beta, T* c,
                  std::int64_t ldc, std::int64_t stride_c, std::int64_t batch);

}  // namespace gpurnn::cuda
