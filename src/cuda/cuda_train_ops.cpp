// The cuda TrainOps: cuBLAS for the linear layer's products (through CudaOps::gemm, the row-major
// wrapper the RNN backend uses) and for the attention's batched products (cuda/batched_gemm.h:
// one strided-batched GEMM over the batch rows of the time-major tensors), the kernels of
// kernels/train_kernels.cu, kernels/train_reduce_kernels.cu and kernels/attention_kernels.cu for
// the rest. Every call makes the ops' device current for
// its length (DeviceGuard) and queues its work on the ops' stream (set_stream); the calls that
// return a host value (the losses, sum_squares) copy one ReducePartial back and synchronise that
// stream. Arguments are checked by platform/train_op_checks, in the same words as the cpu ops.
//
// Where cuda differs from cpu (as gpurnn/train/ops.h allows): ids are not range-checked (the
// data is on the device; an out-of-range id gives a row of zeros forward and is skipped
// backward), mask_scores does not range-check lengths (see kernels/attention_kernels.h), and an
// out-of-range target of softmax_cross_entropy is found by the kernel, so the
// Error comes after dlogits has been written (rows with bad targets hold zeros).

#include "cuda/cuda_train_ops.h"

#include <cuda_runtime.h>

#include <climits>
#include <cmath>
#include <cstdint>
#include <string>

#include "kernels/attention_kernels.h"
#include "cuda/batched_gemm.h"
#include "cuda/cublas_handle.h"
#include "cuda/cuda_ops.h"
#include "kernels/cuda_status.h"
#include "cuda/device_guard.h"
#include "cuda/require_device.h"
#include "kernels/train_kernels.h"
#include "gpurnn/detail/dtype_dispatch.h"
#include "platform/train_op_checks.h"

namespace gpurnn::cuda {
namespace {

using engine::Trans;
using train::LossSum;

template <class T>
T* data_or_null(TensorView v) {
  return v.empty() ? nullptr : v.data_as<T>();
}
template <class T>
const T* data_or_null(ConstTensorView v) {
  return v.empty() ? nullptr : v.data_as<T>();
}

// The cpu ops' Adam scalars (src/cpu/cpu_train_ops.cpp), for the kernel.
AdamStep adam_step(const train::AdamHyper& h) {
  const double t = static_cast<double>(h.step);
  AdamStep s;
  s.beta1 = h.beta1;
  s.beta2 = h.beta2;
  s.eps = h.eps;
  s.weight_decay = h.weight_decay;
  s.decoupled = h.decoupled;
  s.step_size = h.lr / (1.0 - std::pow(h.beta1, t));
  s.bias_correction2_sqrt = std::sqrt(1.0 - std::pow(h.beta2, t));
  s.decay = h.decoupled ? 1.0 - h.lr * h.weight_decay : 1.0;
  return s;
}

class CudaTrainOps final : public train::TrainOps {
 public:
  explicit CudaTrainOps(Device device) : device_(device) {
    require_cuda_device(device, "make_train_ops");
    const DeviceGuard guard(device_.index);
    scratch_ = Tensor::empty({static_cast<std::int64_t>(kReduceScratchPartials * sizeof(ReducePartial))},
                             DType::u8, device_);
    // The pool allocates in legacy-stream order; the ops' stream may be a non-blocking one.
    GPURNN_CUDA_CHECK(cudaStreamSynchronize(cudaStreamLegacy));
  }

  Device device() const override { return device_; }
  void set_stream(void* stream) override { stream_ = static_cast<cudaStream_t>(stream); }

  void linear_forward(ConstTensorView x, ConstTensorView w, ConstTensorView b, TensorView y) override {
    const DType dt = train::checks::linear_forward(device_, x, w, b, y);
    const DeviceGuard guard(device_.index);
    detail::visit_floating(dt, [&](auto tag) {
      using T = decltype(tag);
      const std::int64_t n = x.dim(0), in = x.dim(1), out = w.dim(0);
      T* py = y.data_as<T>();
      product<T>(Trans::no, Trans::yes, n, out, in, x.data_as<T>(), in, w.data_as<T>(), in, false, py);
      if (!b.empty()) blas<T>().add_bias_rows(py, n, out, out, b.data_as<T>());
    });
  }

  void linear_backward(ConstTensorView x, ConstTensorView w, ConstTensorView dy, TensorView dx,
                       TensorView dw, TensorView db, bool accumulate) override {
    const DType dt = train::checks::linear_backward(device_, x, w, dy, dx, dw, db);
    const DeviceGuard guard(device_.index);
    detail::visit_floating(dt, [&](auto tag) {
      using T = decltype(tag);
      const std::int64_t n = x.dim(0), in = x.dim(1), out = w.dim(0);
      const T* pdy = dy.data_as<T>();
      if (!dx.empty()) {
        product<T>(Trans::no, Trans::no, n, in, out, pdy, out, w.data_as<T>(), in, false, dx.data_as<T>());
      }
      product<T>(Trans::yes, Trans::no, out, in, n, pdy, out, x.data_as<T>(), in, accumulate,
                 dw.data_as<T>());
      if (!db.empty()) launch_column_sums<T>(pdy, n, out, out, db.data_as<T>(), accumulate, stream_);
    });
  }

  void embedding_forward(ConstTensorView table, ConstTensorView ids, TensorView y) override {
    const DType dt = train::checks::embedding_forward(device_, table, ids, y);
    const DeviceGuard guard(device_.index);
    detail::visit_floating(dt, [&](auto tag) {
      using T = decltype(tag);
      launch_embedding_gather<T>(table.data_as<T>(), ids.data_as<std::int32_t>(), ids.dim(0),
                                 table.dim(0), table.dim(1), y.data_as<T>(), stream_);
    });
  }

  void embedding_backward(ConstTensorView ids, ConstTensorView dy, TensorView dtable,
                          bool accumulate) override {
    const DType dt = train::checks::embedding_backward(device_, ids, dy, dtable);
    const DeviceGuard guard(device_.index);
    if (!accumulate) GPURNN_CUDA_CHECK(cudaMemsetAsync(dtable.data(), 0, dtable.bytes(), stream_));
    detail::visit_floating(dt, [&](auto tag) {
      using T = decltype(tag);
      launch_embedding_scatter_add<T>(ids.data_as<std::int32_t>(), dy.data_as<T>(), ids.dim(0),
                                      dtable.dim(0), dtable.dim(1), dtable.data_as<T>(), stream_);
    });
  }

  void dropout_forward(ConstTensorView x, double p, std::uint64_t seed, std::uint64_t stream_id,
                       TensorView y) override {
    dropout("TrainOps::dropout_forward", "x", x, p, seed, stream_id, "y", y);
  }
  void dropout_backward(ConstTensorView dy, double p, std::uint64_t seed, std::uint64_t stream_id,
                        TensorView dx) override {
    dropout("TrainOps::dropout_backward", "dy", dy, p, seed, stream_id, "dx", dx);
  }

  LossSum softmax_cross_entropy(ConstTensorView logits, ConstTensorView targets, std::int32_t ignore_index,
                                double grad_scale, TensorView dlogits) override {
    const DType dt = train::checks::softmax_cross_entropy(device_, logits, targets, grad_scale, dlogits);
    const DeviceGuard guard(device_.index);
    detail::visit_floating(dt, [&](auto tag) {
      using T = decltype(tag);
      launch_softmax_cross_entropy<T>(logits.data_as<T>(), targets.data_as<std::int32_t>(),
                                      logits.dim(0), logits.dim(1), ignore_index, grad_scale,
                                      data_or_null<T>(dlogits), scratch(), stream_);
    });
    const ReducePartial total = read_total();
    if (total.first_bad != kNoBadRow) report_bad_target(targets, total.first_bad, logits.dim(1), ignore_index);
    return {total.sum, static_cast<std::int64_t>(total.count)};
  }

  LossSum mean_squared_error(ConstTensorView pred, ConstTensorView target, ConstTensorView mask,
                             double grad_scale, TensorView dpred) override {
    const DType dt = train::checks::mean_squared_error(device_, pred, target, mask, grad_scale, dpred);
    const DeviceGuard guard(device_.index);
    detail::visit_floating(dt, [&](auto tag) {
      using T = decltype(tag);
      launch_squared_error<T>(pred.data_as<T>(), target.data_as<T>(), data_or_null<T>(mask),
                              pred.dim(0), pred.dim(1), grad_scale, data_or_null<T>(dpred), scratch(),
                              stream_);
    });
    const ReducePartial total = read_total();
    return {total.sum, static_cast<std::int64_t>(total.count)};
  }

  // --- Attention. Time-major [X, B, Y] tensors are B interleaved X x Y matrices (matrix p at p*Y,
  // rows B*Y apart); each product below is one batched GEMM over p (see cuda/batched_gemm.h).
  void attention_scores(ConstTensorView query, ConstTensorView keys, TensorView scores) override {
    const DType dt = train::checks::attention_scores(device_, query, keys, scores);
    const DeviceGuard guard(device_.index);
    const std::int64_t t = query.dim(0), b = query.dim(1), d = query.dim(2), s = keys.dim(0);
    detail::visit_floating(dt, [&](auto tag) {
      using T = decltype(tag);  // scores_p[T, S] = q_p[T, D] · k_p[S, D]^T
      batched_product<T>(Trans::no, Trans::yes, t, s, d, query.data_as<T>(), b * d, d, keys.data_as<T>(), b * d,
                         d, false, scores, b * s, s, b);
    });
  }

  void attention_scores_backward(ConstTensorView query, ConstTensorView keys, ConstTensorView dscores,
                                 TensorView dquery, TensorView dkeys, bool accumulate) override {
    const DType dt = train::checks::attention_scores_backward(device_, query, keys, dscores, dquery, dkeys);
    const DeviceGuard guard(device_.index);
    const std::int64_t t = query.dim(0), b = query.dim(1), d = query.dim(2), s = keys.dim(0);
    detail::visit_floating(dt, [&](auto tag) {
      using T = decltype(tag);
      const T* ds = dscores.data_as<T>();
      if (!dquery.empty()) {  // dq_p[T, D] (+)= ds_p[T, S] · k_p[S, D]
        batched_product<T>(Trans::no, Trans::no, t, d, s, ds, b * s, s, keys.data_as<T>(), b * d, d, accumulate,
                           dquery, b * d, d, b);
      }
      if (!dkeys.empty()) {  // dk_p[S, D] (+)= ds_p[T, S]^T · q_p[T, D]
        batched_product<T>(Trans::yes, Trans::no, s, d, t, ds, b * s, s, query.data_as<T>(), b * d, d,
                           accumulate, dkeys, b * d, d, b);
      }
    });
  }

  void attention_context(ConstTensorView weights, ConstTensorView values, TensorView context) override {
    const DType dt = train::checks::attention_context(device_, weights, values, context);
    const DeviceGuard guard(device_.index);
    const std::int64_t t = weights.dim(0), b = weights.dim(1), s = weights.dim(2), d = values.dim(2);
    detail::visit_floating(dt, [&](auto tag) {
      using T = decltype(tag);  // ctx_p[T, D] = w_p[T, S] · v_p[S, D]
      batched_product<T>(Trans::no, Trans::no, t, d, s, weights.data_as<T>(), b * s, s, values.data_as<T>(),
                         b * d, d, false, context, b * d, d, b);
    });
  }

  void attention_context_backward(ConstTensorView weights, ConstTensorView values, ConstTensorView dcontext,
                                  TensorView dweights, TensorView dvalues, bool accumulate) override {
    const DType dt =
        train::checks::attention_context_backward(device_, weights, values, dcontext, dweights, dvalues);
    const DeviceGuard guard(device_.index);
    const std::int64_t t = weights.dim(0), b = weights.dim(1), s = weights.dim(2), d = values.dim(2);
    detail::visit_floating(dt, [&](auto tag) {
      using T = decltype(tag);
      const T* dc = dcontext.data_as<T>();
      if (!dweights.empty()) {  // dw_p[T, S] = dc_p[T, D] · v_p[S, D]^T (always overwritten)
        batched_product<T>(Trans::no, Trans::yes, t, s, d, dc, b * d, d, values.data_as<T>(), b * d, d, false,
                           dweights, b * s, s, b);
      }
      if (!dvalues.empty()) {  // dv_p[S, D] (+)= w_p[T, S]^T · dc_p[T, D]
        batched_product<T>(Trans::yes, Trans::no, s, d, t, weights.data_as<T>(), b * s, s, dc, b * d, d,
                           accumulate, dvalues, b * d, d, b);
      }
    });
  }

  void additive_scores(ConstTensorView query, ConstTensorView keys, ConstTensorView v,
                       TensorView scores) override {
    const DType dt = train::checks::additive_scores(device_, query, keys, v, scores);
    const DeviceGuard guard(device_.index);
    detail::visit_floating(dt, [&](auto tag) {
      using T = decltype(tag);
      launch_additive_scores<T>(query.data_as<T>(), keys.data_as<T>(), v.data_as<T>(), query.dim(0),
                                query.dim(1), keys.dim(0), query.dim(2), scores.data_as<T>(), stream_);
    });
  }

  void additive_scores_backward(ConstTensorView query, ConstTensorView keys, ConstTensorView v,
                                ConstTensorView dscores, TensorView dquery, TensorView dkeys, TensorView dv,
                                bool accumulate) override {
    const DType dt =
        train::checks::additive_scores_backward(device_, query, keys, v, dscores, dquery, dkeys, dv);
    const DeviceGuard guard(device_.index);
    detail::visit_floating(dt, [&](auto tag) {
      using T = decltype(tag);
      launch_additive_scores_backward<T>(query.data_as<T>(), keys.data_as<T>(), v.data_as<T>(),
                                         dscores.data_as<T>(), query.dim(0), query.dim(1), keys.dim(0),
                                         query.dim(2), data_or_null<T>(dquery), data_or_null<T>(dkeys),
                                         data_or_null<T>(dv), accumulate, stream_);
    });
  }

  void mask_scores(TensorView scores, ConstTensorView lengths, ConstTensorView excluded) override {
    const DType dt = train::checks::mask_scores(device_, scores, lengths, excluded);
    const DeviceGuard guard(device_.index);
    detail::visit_floating(dt, [&](auto tag) {
      using T = decltype(tag);
      launch_mask_scores<T>(scores.data_as<T>(), data_or_null<std::int32_t>(lengths),
                            data_or_null<std::uint8_t>(excluded), scores.dim(0), scores.dim(1), scores.dim(2),
                            stream_);
    });
  }

  void softmax(ConstTensorView x, TensorView y) override {
    const DType dt = train::checks::softmax(device_, x, y);
    const DeviceGuard guard(device_.index);
    const std::int64_t cols = x.dim(x.rank() - 1);
    detail::visit_floating(dt, [&](auto tag) {
      using T = decltype(tag);
      if (cols > 0) launch_softmax_rows<T>(x.data_as<T>(), x.numel() / cols, cols, y.data_as<T>(), stream_);
    });
  }

  void softmax_backward(ConstTensorView y, ConstTensorView dy, TensorView dx) override {
    const DType dt = train::checks::softmax_backward(device_, y, dy, dx);
    const DeviceGuard guard(device_.index);
    const std::int64_t cols = y.dim(y.rank() - 1);
    detail::visit_floating(dt, [&](auto tag) {
      using T = decltype(tag);
      if (cols > 0) {
        launch_softmax_backward_rows<T>(y.data_as<T>(), dy.data_as<T>(), y.numel() / cols, cols, dx.data_as<T>(),
                                        stream_);
      }
    });
  }

  void tanh_forward(ConstTensorView x, TensorView y) override {
    const DType dt = train::checks::tanh_forward(device_, x, y);
    const DeviceGuard guard(device_.index);
    detail::visit_floating(dt, [&](auto tag) {
      using T = decltype(tag);
      launch_tanh_forward<T>(x.data_as<T>(), x.numel(), y.data_as<T>(), stream_);
    });
  }

  void tanh_backward(ConstTensorView y, ConstTensorView dy, TensorView dx) override {
    const DType dt = train::checks::tanh_backward(device_, y, dy, dx);
    const DeviceGuard guard(device_.index);
    detail::visit_floating(dt, [&](auto tag) {
      using T = decltype(tag);
      launch_tanh_backward<T>(y.data_as<T>(), dy.data_as<T>(), y.numel(), dx.data_as<T>(), stream_);
    });
  }

  void add_scaled(ConstTensorView x, double alpha, TensorView y) override {
    const DType dt = train::checks::add_scaled(device_, x, alpha, y);
    const DeviceGuard guard(device_.index);
    detail::visit_floating(dt, [&](auto tag) {
      using T = decltype(tag);
      launch_add_scaled<T>(x.data_as<T>(), x.numel(), alpha, y.data_as<T>(), stream_);
    });
  }

  double sum_squares(ConstTensorView x) override {
    const DType dt = train::checks::sum_squares(device_, x);
    const DeviceGuard guard(device_.index);
    detail::visit_floating(dt, [&](auto tag) {
      using T = decltype(tag);
      // One row of numel() values: no target, no mask, no gradient.
      launch_squared_error<T>(x.data_as<T>(), nullptr, nullptr, 1, x.numel(), 0.0, nullptr, scratch(),
                              stream_);
    });
    return read_total().sum;
  }

  void copy(ConstTensorView src, TensorView dst) override {
    train::checks::copy(device_, src, dst);
    if (src.numel() == 0) return;
    const DeviceGuard guard(device_.index);
    // Unified addressing: the runtime tells host from device pointers.
    GPURNN_CUDA_CHECK(cudaMemcpyAsync(dst.data(), src.data(), src.bytes(), cudaMemcpyDefault, stream_));
    if (dst.device().is_cpu()) GPURNN_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }
  void scale(TensorView x, double factor) override {
    const DType dt = train::checks::scale(device_, x, factor);
    const DeviceGuard guard(device_.index);
    detail::visit_floating(dt, [&](auto tag) {
      using T = decltype(tag);
      launch_scale<T>(x.data_as<T>(), x.numel(), factor, stream_);
    });
  }

  void sgd_update(TensorView param, ConstTensorView grad, TensorView momentum,
                  const train::SgdHyper& hyper) override {
    const DType dt = train::checks::sgd_update(device_, param, grad, momentum, hyper);
    const DeviceGuard guard(device_.index);
    detail::visit_floating(dt, [&](auto tag) {
      using T = decltype(tag);
      T* buf = hyper.momentum != 0.0 ? momentum.data_as<T>() : nullptr;
      launch_sgd_update<T>(param.data_as<T>(), grad.data_as<T>(), buf, param.numel(), hyper, stream_);
    });
  }

  void adam_update(TensorView param, ConstTensorView grad, TensorView m, TensorView v,
                   const train::AdamHyper& hyper) override {
    const DType dt = train::checks::adam_update(device_, param, grad, m, v, hyper);
    const DeviceGuard guard(device_.index);
    const AdamStep step = adam_step(hyper);
    detail::visit_floating(dt, [&](auto tag) {
      using T = decltype(tag);
      launch_adam_update<T>(param.data_as<T>(), grad.data_as<T>(), m.data_as<T>(), v.data_as<T>(),
                            param.numel(), step, stream_);
    });
  }

 private:
  template <class T>
  CudaOps<T> blas() const {
    return CudaOps<T>(stream_, cublas_handle_for(device_.index));
  }

  // c[m, n] (+)= op(a) · op(b) with an inner size k, c dense (ldc == n). Sizes of 0 are handled
  // here: cuBLAS refuses leading dimensions of 0, and k == 0 means c = 0 (or unchanged).
  template <class T>
  void product(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k, const T* a,
               std::int64_t lda, const T* b, std::int64_t ldb, bool accumulate, T* c) const {
    if (m == 0 || n == 0) return;
    if (k == 0) {
      if (!accumulate) {
        GPURNN_CUDA_CHECK(cudaMemsetAsync(c, 0, static_cast<std::size_t>(m * n) * sizeof(T), stream_));
      }
      return;
    }
    if (m > INT_MAX || n > INT_MAX || k > INT_MAX) {
      throw Error(ErrorCode::unsupported,
                  "TrainOps: a matrix product of " + std::to_string(m) + " x " + std::to_string(k) +
                      " by " + std::to_string(k) + " x " + std::to_string(n) +
                      " exceeds cuBLAS's 32-bit sizes");
    }
    blas<T>().gemm(ta, tb, m, n, k, T(1), a, lda, b, ldb, accumulate ? T(1) : T(0), c, n);
  }

  // For every batch row p < batch: out_p (+)= op(a_p) · op(b_p) (row-major, strided; see
  // cuda/batched_gemm.h), out_p inside `out`, the whole output tensor. k == 0 is an empty sum:
  // `out` becomes zeros (or stays as it is when accumulating), since cuBLAS refuses an inner size
  // of 0 with these leading dimensions.
  template <class T>
  void batched_product(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k, const T* a,
                       std::int64_t lda, std::int64_t stride_a, const T* b, std::int64_t ldb, std::int64_t stride_b,
                       bool accumulate, TensorView out, std::int64_t ldc, std::int64_t stride_c,
                       std::int64_t batch) const {
    if (m == 0 || n == 0 || batch == 0) return;
    if (k == 0) {
      if (!accumulate) GPURNN_CUDA_CHECK(cudaMemsetAsync(out.data(), 0, out.bytes(), stream_));
      return;
    }
    batched_gemm<T>(cublas_handle_for(device_.index), stream_, ta, tb, m, n, k, T(1), a, lda, stride_a, b, ldb,
                    stride_b, accumulate ? T(1) : T(0), out.data_as<T>(), ldc, stride_c, batch);
  }

  void dropout(const char* call, const char* in_name, ConstTensorView in, double p, std::uint64_t seed,
               std::uint64_t stream_id, const char* out_name, TensorView out) {
    const DType dt = train::checks::dropout(call, device_, in_name, in, p, out_name, out);
    const DeviceGuard guard(device_.index);
    detail::visit_floating(dt, [&](auto tag) {
      using T = decltype(tag);
      launch_dropout<T>(in.data_as<T>(), in.numel(), p, seed, stream_id, out.data_as<T>(), stream_);
    });
  }

  ReducePartial* scratch() { return static_cast<ReducePartial*>(scratch_.data()); }

  // The total the last reduction left at scratch[kMaxReduceBlocks], once the stream is done.
  ReducePartial read_total() {
    ReducePartial total{};
    GPURNN_CUDA_CHECK(cudaMemcpyAsync(&total, scratch() + kMaxReduceBlocks, sizeof total,
                                      cudaMemcpyDeviceToHost, stream_));
    GPURNN_CUDA_CHECK(cudaStreamSynchronize(stream_));
    return total;
  }

  // The cpu ops' message for an out-of-range target, with the value read back from the device.
  [[noreturn]] void report_bad_target(ConstTensorView targets, long long row, std::int64_t classes,
                                      std::int32_t ignore_index) {
    std::int32_t value = 0;
    GPURNN_CUDA_CHECK(cudaMemcpyAsync(&value, targets.data_as<std::int32_t>() + row, sizeof value,
                                      cudaMemcpyDeviceToHost, stream_));
    GPURNN_CUDA_CHECK(cudaStreamSynchronize(stream_));
    throw Error(ErrorCode::invalid_argument,
                "TrainOps::softmax_cross_entropy: argument 'targets' has targets[" + std::to_string(row) +
                    "] = " + std::to_string(value) + ", expected a value in [0, " +
                    std::to_string(classes) + ") or ignore_index " + std::to_string(ignore_index));
  }

  Device device_;
  cudaStream_t stream_ = nullptr;
  Tensor scratch_;  // kReduceScratchPartials ReducePartials: one per reduction block, then the total
};

}  // namespace

std::unique_ptr<train::TrainOps> make_cuda_train_ops(Device device) {
  return std::make_unique<CudaTrainOps>(device);
}

}  // namespace gpurnn::cuda
