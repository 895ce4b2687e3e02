#pragma once
// The CUDA backend's Ops for the standard algorithm (the contract: engine/ops_contract.h): cuBLAS GEMMs on the
// call's stream and one kernel per step operation (kernels/step_kernels.cu); nothing here
// synchronises except read_header of a reserve the backend's host mirror does not know.

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "engine/buffer_layout.h"
#include "engine/layer_loop.h"
#include "engine/persistent_plan.h"
#include "engine/reserve_header_mirror.h"
#include "engine/step_ops.h"
#include "kernels/half_kernels.h"
#include "kernels/step_kernels.h"
#include "kernels/train_kernels.h"

namespace gpurnn::cuda {

// Which time loop a layer direction runs (BackendOptions::algorithm): standard (a GEMM and a
// fused kernel per step); persistent, the persistent kernel (LSTM; an error when its plan does
// not fit), both directions of a layer in one launch where they fit; its earlier versions, kept
// so that a GPU run times them side by side: persistent_sequential_directions (one launch per
// direction), persistent_full_reduce (that, with the first warp reduction) and
// persistent_elementwise_stage (that, with the first h_{t-1} staging too: the first version);
// automatic, the persistent kernel when it fits and the batch is small, else standard.
enum class CudaAlgorithm {
  standard,
  persistent,
  persistent_sequential_directions,
  persistent_full_reduce,
  persistent_elementwise_stage,
  automatic
};
struct AlgorithmChoice {
  CudaAlgorithm algorithm = CudaAlgorithm::standard;
  engine::DeviceLimits device;  // for the persistent plan
};

template <class T>
class CudaOps {
 public:
  using value_type = T;

  // `headers`: the backend's host copies of the reserve headers it wrote (null: none kept, every
  // read_header reads the device and waits for the stream).
  CudaOps(cudaStream_t stream, cublasHandle_t cublas, const AlgorithmChoice* choice = nullptr,
          engine::ReserveHeaderMirror* headers = nullptr)
      : stream_(stream), cublas_(cublas), choice_(choice), headers_(headers) {}

  void gemm(engine::Trans ta, engine::Trans tb, std::int64_t m, std::int64_t n, std::int64_t k,
            T alpha, const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c,
            std::int64_t ldc);
  void copy(T* dst, const T* src, std::int64_t n);
  void copy_or_zero(T* dst, const T* src, std::int64_t n);
  const std::int32_t* stage_lengths(const std::int32_t* host, std::int64_t batch, std::int32_t* slot);
  // Queued on the stream, and kept in the host mirror.
  void write_header(engine::ReserveHeader* dst, const engine::ReserveHeader& h);
  // The mirror's copy when it has one (no synchronisation), else read back, waiting for the stream.
  engine::ReserveHeader read_header(const engine::ReserveHeader* src);

  // The kernels of kernels/elementwise_kernels.cu and kernels/step_kernels.cu on this stream.
  void add_bias_rows(T* rows, std::int64_t count, std::int64_t n, std::int64_t ld, const T* bias) {
    launch_add_bias_rows(rows, count, n, ld, bias, stream_);
  }
  void transpose_leading(const T* src, T* dst, std::int64_t a, std::int64_t b, std::int64_t f) {
    launch_transpose_leading(src, dst, a, b, f, stream_);
  }
  void apply_dropout(T* values, std::int64_t count, std::uint64_t seed, int layer, double p) {
    launch_dropout(values, count, seed, layer, p, stream_);
  }
  // The training ops' blocked column sum (kernels/train_reduce_kernels.cu): 16 row lanes per
  // column, not one thread walking all T*B rows of its column.
  void column_sums(const T* rows, std::int64_t count, std::int64_t n, std::int64_t ld, T* out,
                   bool accumulate) {
    launch_column_sums<T>(rows, count, n, ld, out, accumulate, stream_);
  }
  void forward_step(const engine::ForwardStep<T>& s) { launch_forward_step(s, stream_); }
  void finish_forward_step(const engine::StepOutput<T>& s) { launch_finish_forward_step(s, stream_); }
  void output_gradient(const engine::OutputGradient<T>& s) { launch_output_gradient(s, stream_); }
  void backward_step(const engine::BackwardStep<T>& s) { launch_backward_step(s, stream_); }
  // engine::layer_forward's hook (src/cuda/persistent_time_loop.cpp): the persistent kernel
  // runs the layer direction's time loop when the algorithm choice says so.
  bool run_time_loop(const engine::LayerProblem& p, const engine::LayerWeights<T>& w,
                     const engine::LayerBuffers<T>& buf, const engine::LayerForwardIO<T>& io);
  // network_forward's hook for a bidirectional layer: both directions in one launch of the
  // persistent kernel ("persistent" and "auto") when their plan on half the SMs fits.
  bool run_time_loop_pair(const engine::LayerProblem (&p)[2], const engine::LayerWeights<T> (&w)[2],
                          const engine::LayerBuffers<T> (&buf)[2], const engine::LayerForwardIO<T> (&io)[2]);

  // A bf16 or f16 call (engine/half_calls.h), on the f32 Ops. The rule makes every GEMM operand of
  // a product by the weights a half value held in f32; told so, gemm multiplies on tensor cores
  // (cuBLAS's CUBLAS_COMPUTE_32F_FAST_16BF / _16F: the operands converted to the half type,
  // which is exact for half values, products summed in f32), giving the rule's result.
  // round_to_half: values[k] rounded to `half` in place (kernels/half_kernels.h).
  void round_to_half(DType half, float* values, std::int64_t n) { launch_round_to_half(half, values, n, stream_); }
  // The forward and backward data of a half call: a product one of whose operands lies in
  // `widened` (count elements, the f32 copy of the caller's weights `half_data`) has half values
  // on both sides. half_weights_of maps a pointer into `widened` to the same element of
  // `half_data` (null outside it, or in an f32 call): the persistent kernel keeps those on chip.
  void use_half_weights(DType half, const float* widened, const void* half_data, std::int64_t count) {
    half_ = half;
    widened_ = widened;
    half_data_ = half_data;
    weight_count_ = count;
  }
  // The weight gradients of a half call: every product of the call has half values on both sides.
  void use_half_operands(DType half) {
    half_ = half;
    all_operands_half_ = true;
  }
  const void* half_weights_of(const T* w) const;
  // The half dtype of this call's products (f32: none).
  DType half_dtype() const { return half_; }

 private:
  cudaStream_t stream_;
  cublasHandle_t cublas_;
  const AlgorithmChoice* choice_;  // null: standard
  engine::ReserveHeaderMirror* headers_;
  // A half call (use_half_weights / use_half_operands); half_ is f32 otherwise.
  DType half_ = DType::f32;
  bool all_operands_half_ = false;
  const float* widened_ = nullptr;
  const void* half_data_ = nullptr;
  std::int64_t weight_count_ = 0;
  // Whether the product of a and b has half values on both sides (see use_half_weights).
  bool half_valued(const T* a, const T* b) const;
};

// The persistent plan of one layer direction of `desc` at `batch` on `device`; `elem_size` is the
// call's: 4 (f32), 8 (f64), or 2 for a bf16/f16 call (half W_hh on chip, f32 state).
engine::PersistentPlan persistent_plan_for(const RNNDescriptor& desc, std::int64_t batch, std::size_t elem_size,
                                           const engine::DeviceLimits& device);

}  // namespace gpurnn::cuda
