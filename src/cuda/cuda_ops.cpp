// The CUDA backend's GEMMs (cuBLAS) and copies, queued on the call's stream.

#include "cuda/cuda_ops.h"

#include <optional>
#include <type_traits>

#include "cuda/cublas_handle.h"
#include "cuda/cublas_sizes.h"
#include "kernels/cuda_status.h"

namespace gpurnn::cuda {
namespace {

cublasOperation_t op(engine::Trans t) { return t == engine::Trans::yes ? CUBLAS_OP_T : CUBLAS_OP_N; }

// A product's sizes as cuBLAS's ints (checked).
struct Sizes {
  int m, n, k, lda, ldb, ldc;
  Sizes(std::int64_t m_, std::int64_t n_, std::int64_t k_, std::int64_t lda_, std::int64_t ldb_, std::int64_t ldc_)
      : m(cublas_int(m_, "row count", kCaller)), n(cublas_int(n_, "column count", kCaller)),
        k(cublas_int(k_, "inner size", kCaller)), lda(cublas_int(lda_, "leading dimension", kCaller)),
        ldb(cublas_int(ldb_, "leading dimension", kCaller)), ldc(cublas_int(ldc_, "leading dimension", kCaller)) {}
  static constexpr const char* kCaller = "cuda backend";
};

// Row-major C = op(A) op(B) is column-major Cᵀ = op(B)ᵀ op(A)ᵀ: the same buffers with the
// operands swapped.
void gemm_column_major(cublasHandle_t h, engine::Trans ta, engine::Trans tb, std::int64_t m,
                       std::int64_t n, std::int64_t k, const float* alpha, const float* a,
                       std::int64_t lda, const float* b, std::int64_t ldb, const float* beta, float* c,
                       std::int64_t ldc) {
  const Sizes s(m, n, k, lda, ldb, ldc);
  check_cublas(cublasSgemm(h, op(tb), op(ta), s.n, s.m, s.k, alpha, b, s.ldb, a, s.lda, beta, c, s.ldc),
               "cublasSgemm");
}
void gemm_column_major(cublasHandle_t h, engine::Trans ta, engine::Trans tb, std::int64_t m,
                       std::int64_t n, std::int64_t k, const double* alpha, const double* a,
                       std::int64_t lda, const double* b, std::int64_t ldb, const double* beta,
                       double* c, std::int64_t ldc) {
  const Sizes s(m, n, k, lda, ldb, ldc);
  check_cublas(cublasDgemm(h, op(tb), op(ta), s.n, s.m, s.k, alpha, b, s.ldb, a, s.lda, beta, c, s.ldc),
               "cublasDgemm");
}

// The same product of f32 arrays whose values are all bf16 (or f16) values: on tensor cores with
// the operands converted to that type, which loses nothing, and the products summed in f32.
void gemm_half_valued(cublasHandle_t h, DType half, engine::Trans ta, engine::Trans tb, std::int64_t m,
                      std::int64_t n, std::int64_t k, const float* alpha, const float* a, std::int64_t lda,
                      const float* b, std::int64_t ldb, const float* beta, float* c, std::int64_t ldc) {
  const Sizes s(m, n, k, lda, ldb, ldc);
  const cublasComputeType_t compute =
      half == DType::bf16 ? CUBLAS_COMPUTE_32F_FAST_16BF : CUBLAS_COMPUTE_32F_FAST_16F;
  check_cublas(cublasGemmEx(h, op(tb), op(ta), s.n, s.m, s.k, alpha, b, CUDA_R_32F, s.ldb, a, CUDA_R_32F, s.lda,
                            beta, c, CUDA_R_32F, s.ldc, compute, CUBLAS_GEMM_DEFAULT),
               "cublasGemmEx");
}

}  // namespace

template <class T>
bool CudaOps<T>::half_valued(const T* a, const T* b) const {
  if constexpr (std::is_same_v<T, float>) {
    if (half_ == DType::f32) return false;
    if (all_operands_half_) return true;
    const auto in_weights = [&](const T* p) {
      return widened_ != nullptr && p >= widened_ && p < widened_ + weight_count_;
    };
    return in_weights(a) || in_weights(b);
  } else {
    (void)a, (void)b;
    return false;
  }
}

template <class T>
const void* CudaOps<T>::half_weights_of(const T* w) const {
  if constexpr (std::is_same_v<T, float>) {
    if (half_ == DType::f32 || widened_ == nullptr || w < widened_ || w >= widened_ + weight_count_) return nullptr;
    return static_cast<const char*>(half_data_) + static_cast<std::size_t>(w - widened_) * dtype_size(half_);
  } else {
    (void)w;
    return nullptr;
  }
}

template <class T>
void CudaOps<T>::gemm(engine::Trans ta, engine::Trans tb, std::int64_t m, std::int64_t n,
                      std::int64_t k, T alpha, const T* a, std::int64_t lda, const T* b,
                      std::int64_t ldb, T beta, T* c, std::int64_t ldc) {
  if (m == 0 || n == 0) return;
  const CublasStreamScope scope(cublas_, stream_);
  if constexpr (std::is_same_v<T, float>) {
    if (half_valued(a, b)) {
      gemm_half_valued(cublas_, half_, ta, tb, m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc);
      return;
    }
  }
  gemm_column_major(cublas_, ta, tb, m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc);
}

template <class T>
void CudaOps<T>::copy(T* dst, const T* src, std::int64_t n) {
  GPURNN_CUDA_CHECK(cudaMemcpyAsync(dst, src, static_cast<std::size_t>(n) * sizeof(T),
                                    cudaMemcpyDeviceToDevice, stream_));
}

template <class T>
void CudaOps<T>::copy_or_zero(T* dst, const T* src, std::int64_t n) {
  if (src != nullptr) {
    copy(dst, src, n);
  } else {
    GPURNN_CUDA_CHECK(cudaMemsetAsync(dst, 0, static_cast<std::size_t>(n) * sizeof(T), stream_));
  }
}

template <class T>
const std::int32_t* CudaOps<T>::stage_lengths(const std::int32_t* host, std::int64_t batch,
                                              std::int32_t* slot) {
  // From pageable memory the copy is staged before this returns, so `host` may go away after.
  GPURNN_CUDA_CHECK(cudaMemcpyAsync(slot, host, static_cast<std::size_t>(batch) * sizeof(std::int32_t),
                                    cudaMemcpyHostToDevice, stream_));
  return slot;
}

template <class T>
void CudaOps<T>::write_header(engine::ReserveHeader* dst, const engine::ReserveHeader& h) {
  if (headers_ != nullptr) headers_->record(dst, h);
  GPURNN_CUDA_CHECK(cudaMemcpyAsync(dst, &h, sizeof(h), cudaMemcpyHostToDevice, stream_));
}

template <class T>
engine::ReserveHeader CudaOps<T>::read_header(const engine::ReserveHeader* src) {
  if (headers_ != nullptr) {
    if (const std::optional<engine::ReserveHeader> known = headers_->find(src)) return *known;
  }
  engine::ReserveHeader h{};
  GPURNN_CUDA_CHECK(cudaMemcpyAsync(&h, src, sizeof(h), cudaMemcpyDeviceToHost, stream_));
  GPURNN_CUDA_CHECK(cudaStreamSynchronize(stream_));
  return h;
}

#define GPURNN_INSTANTIATE_CUDA_OPS(T)                                                          \
  template void CudaOps<T>::gemm(engine::Trans, engine::Trans, std::int64_t, std::int64_t,       \
                                 std::int64_t, T, const T*, std::int64_t, const T*, std::int64_t, \
                                 T, T*, std::int64_t);                                           \
  template void CudaOps<T>::copy(T*, const T*, std::int64_t);                                    \
  template void CudaOps<T>::copy_or_zero(T*, const T*, std::int64_t);                            \
  template const std::int32_t* CudaOps<T>::stage_lengths(const std::int32_t*, std::int64_t,      \
                                                         std::int32_t*);                         \
  template void CudaOps<T>::write_header(engine::ReserveHeader*, const engine::ReserveHeader&);  \
  template engine::ReserveHeader CudaOps<T>::read_header(const engine::ReserveHeader*);            \
  template bool CudaOps<T>::half_valued(const T*, const T*) const;                               \
  template const void* CudaOps<T>::half_weights_of(const T*) const;
GPURNN_INSTANTIATE_CUDA_OPS(float)
GPURNN_INSTANTIATE_CUDA_OPS(double)
#undef GPURNN_INSTANTIATE_CUDA_OPS

}  // namespace gpurnn::cuda
