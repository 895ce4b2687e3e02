#pragma once
// The CUDA backend's Ops for the standard algorithm (engine/step_ops.h): cuBLAS GEMMs on the
// call's stream and one kernel per step operation (kernels/step_kernels.cu); nothing here
// synchronises except read_header.

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "engine/buffer_layout.h"
#include "engine/step_ops.h"

namespace gpurnn::cuda {

template <class T>
class CudaOps {
 public:
  using value_type = T;

  CudaOps(cudaStream_t stream, cublasHandle_t cublas) : stream_(stream), cublas_(cublas) {}

  void gemm(engine::Trans ta, engine::Trans tb, std::int64_t m, std::int64_t n, std::int64_t k,
            T alpha, const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c,
            std::int64_t ldc);
  void copy(T* dst, const T* src, std::int64_t n);
  void copy_or_zero(T* dst, const T* src, std::int64_t n);
  const std::int32_t* stage_lengths(const std::int32_t* host, std::int64_t batch, std::int32_t* slot);
  void write_header(engine::ReserveHeader* dst, const engine::ReserveHeader& h);
  engine::ReserveHeader read_header(const engine::ReserveHeader* src);

  // kernels/elementwise_kernels.cu
  void add_bias_rows(T* rows, std::int64_t count, std::int64_t n, std::int64_t ld, const T* bias);
  void transpose_leading(const T* src, T* dst, std::int64_t a, std::int64_t b, std::int64_t f);
  void apply_dropout(T* values, std::int64_t count, std::uint64_t seed, int layer, double p);
  void column_sums(const T* rows, std::int64_t count, std::int64_t n, std::int64_t ld, T* out,
                   bool accumulate);
  // kernels/step_kernels.cu
  void forward_step(const engine::ForwardStep<T>& s);
  void finish_forward_step(const engine::StepOutput<T>& s);
  void output_gradient(const engine::OutputGradient<T>& s);
  void backward_step(const engine::BackwardStep<T>& s);

 private:
  cudaStream_t stream_;
  cublasHandle_t cublas_;
};

}  // namespace gpurnn::cuda
