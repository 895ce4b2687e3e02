#include "cpu/cpu_train_ops.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "cpu/blas.h"
#include "gpurnn/detail/counter_random.h"
#include "gpurnn/detail/dtype_dispatch.h"
#include "cpu/cpu_attention_ops.h"
#include "platform/train_op_checks.h"

namespace gpurnn::train {
namespace {

using engine::Trans;

// c[m, n] (+)= op(a) · op(b) with an inner size k; sizes of 0 are handled here because BLAS
// refuses leading dimensions of 0. `c` is dense (ldc == n).
template <class T>
void product(Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k, const T* a,
             std::int64_t lda, const T* b, std::int64_t ldb, bool accumulate, T* c) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate) std::fill(c, c + m * n, T(0));
    return;
  }
  cpu::training_gemm(ta, tb, m, n, k, a, lda, b, ldb, accumulate ? T(1) : T(0), c, n);
}

// Every id in [0, limit), or equal to `allowed` when has_allowed (the ignore index). Checked
// before anything is written, so a bad id leaves no half-written output.
void check_ids(const char* call, const char* arg, ConstTensorView ids, std::int64_t limit,
               bool has_allowed, std::int32_t allowed) {
  const std::int32_t* id = ids.data_as<std::int32_t>();
  for (std::int64_t n = 0; n < ids.numel(); ++n) {
    if (has_allowed && id[n] == allowed) continue;
    if (id[n] < 0 || id[n] >= limit) {
      check_argument(false, call, arg, [&] {
        return "has " + std::string(arg) + "[" + std::to_string(n) + "] = " + std::to_string(id[n]) +
               ", expected a value in [0, " + std::to_string(limit) + ")" +
               (has_allowed ? " or ignore_index " + std::to_string(allowed) : "");
      });
    }
  }
}

template <class T>
void linear_forward(ConstTensorView x, ConstTensorView w, ConstTensorView b, TensorView y) {
  const std::int64_t n = x.dim(0), in = x.dim(1), out = w.dim(0);
  T* py = y.data_as<T>();
  product<T>(Trans::no, Trans::yes, n, out, in, x.data_as<T>(), in, w.data_as<T>(), in, false, py);
  if (b.empty()) return;
  const T* pb = b.data_as<T>();
  for (std::int64_t r = 0; r < n; ++r) {
    for (std::int64_t j = 0; j < out; ++j) py[r * out + j] += pb[j];
  }
}

template <class T>
void linear_backward(ConstTensorView x, ConstTensorView w, ConstTensorView dy, TensorView dx,
                     TensorView dw, TensorView db, bool accumulate) {
  const std::int64_t n = x.dim(0), in = x.dim(1), out = w.dim(0);
  const T* pdy = dy.data_as<T>();
  if (!dx.empty()) {
    product<T>(Trans::no, Trans::no, n, in, out, pdy, out, w.data_as<T>(), in, false, dx.data_as<T>());
  }
  product<T>(Trans::yes, Trans::no, out, in, n, pdy, out, x.data_as<T>(), in, accumulate,
             dw.data_as<T>());
  if (db.empty()) return;
  T* pdb = db.data_as<T>();
  for (std::int64_t j = 0; j < out; ++j) {
    double sum = 0.0;
    for (std::int64_t r = 0; r < n; ++r) sum += static_cast<double>(pdy[r * out + j]);
    pdb[j] = static_cast<T>(accumulate ? static_cast<double>(pdb[j]) + sum : sum);
  }
}

template <class T>
void embedding_forward(ConstTensorView table, ConstTensorView ids, TensorView y) {
  const std::int64_t dim = table.dim(1);
  const std::int32_t* id = ids.data_as<std::int32_t>();
  const T* pt = table.data_as<T>();
  T* py = y.data_as<T>();
  for (std::int64_t n = 0; n < ids.dim(0); ++n) std::copy_n(pt + id[n] * dim, dim, py + n * dim);
}

template <class T>
void embedding_backward(ConstTensorView ids, ConstTensorView dy, TensorView dtable, bool accumulate) {
  const std::int64_t dim = dtable.dim(1);
  const std::int32_t* id = ids.data_as<std::int32_t>();
  const T* pdy = dy.data_as<T>();
  T* pt = dtable.data_as<T>();
  if (!accumulate) std::fill(pt, pt + dtable.numel(), T(0));
  for (std::int64_t n = 0; n < ids.dim(0); ++n) {
    T* row = pt + id[n] * dim;
    for (std::int64_t e = 0; e < dim; ++e) row[e] += pdy[n * dim + e];
  }
}

// out[i] = in[i] * T(dropout_scale(seed, stream_id, i, p)), in T, as the cuda kernel does.
template <class T>
void dropout_apply(ConstTensorView in, double p, std::uint64_t seed, std::uint64_t stream_id,
                   TensorView out) {
  const T* src = in.data_as<T>();
  T* dst = out.data_as<T>();
  for (std::int64_t i = 0; i < in.numel(); ++i) {
    dst[i] = src[i] * static_cast<T>(detail::dropout_scale(seed, stream_id, static_cast<std::uint64_t>(i), p));
  }
}

// One row's log-sum-exp, max-subtracted, accumulated in double.
template <class T>
double log_sum_exp(const T* row, std::int64_t v) {
  double mx = -INFINITY;
  for (std::int64_t j = 0; j < v; ++j) mx = std::max(mx, static_cast<double>(row[j]));
  double sum = 0.0;
  for (std::int64_t j = 0; j < v; ++j) sum += std::exp(static_cast<double>(row[j]) - mx);
  return mx + std::log(sum);
}

template <class T>
LossSum softmax_cross_entropy(ConstTensorView logits, ConstTensorView targets,
                              std::int32_t ignore_index, double grad_scale, TensorView dlogits) {
  const std::int64_t rows = logits.dim(0), v = logits.dim(1);
  const T* pl = logits.data_as<T>();
  const std::int32_t* target = targets.data_as<std::int32_t>();
  T* pd = dlogits.empty() ? nullptr : dlogits.data_as<T>();
  LossSum loss;
  for (std::int64_t n = 0; n < rows; ++n) {
    const T* row = pl + n * v;
    T* drow = pd ? pd + n * v : nullptr;
    if (target[n] == ignore_index) {
      if (drow) std::fill(drow, drow + v, T(0));
      continue;
    }
    const double lse = log_sum_exp(row, v);
    loss.sum += lse - static_cast<double>(row[target[n]]);
    ++loss.count;
    if (!drow) continue;
    for (std::int64_t j = 0; j < v; ++j) {
      const double p = std::exp(static_cast<double>(row[j]) - lse);
      drow[j] = static_cast<T>(grad_scale * (p - (j == target[n] ? 1.0 : 0.0)));
    }
  }
  return loss;
}

template <class T>
LossSum mean_squared_error(ConstTensorView pred, ConstTensorView target, ConstTensorView mask,
                           double grad_scale, TensorView dpred) {
  const std::int64_t rows = pred.dim(0), d = pred.dim(1);
  const T* pp = pred.data_as<T>();
  const T* pt = target.data_as<T>();
  const T* pm = mask.empty() ? nullptr : mask.data_as<T>();
  T* pd = dpred.empty() ? nullptr : dpred.data_as<T>();
  LossSum loss;
  for (std::int64_t n = 0; n < rows; ++n) {
    const double weight = pm ? static_cast<double>(pm[n]) : 1.0;
    if (weight != 0.0) ++loss.count;
    for (std::int64_t k = n * d; k < (n + 1) * d; ++k) {
      const double diff = static_cast<double>(pp[k]) - static_cast<double>(pt[k]);
      loss.sum += weight * diff * diff;
      if (pd) pd[k] = static_cast<T>(grad_scale * 2.0 * weight * diff);
    }
  }
  return loss;
}

template <class T>
double sum_squares(ConstTensorView x) {
  const T* p = x.data_as<T>();
  double sum = 0.0;
  for (std::int64_t i = 0; i < x.numel(); ++i) sum += static_cast<double>(p[i]) * static_cast<double>(p[i]);
  return sum;
}

template <class T>
void scale(TensorView x, double factor) {
  T* p = x.data_as<T>();
  for (std::int64_t i = 0; i < x.numel(); ++i) p[i] = static_cast<T>(static_cast<double>(p[i]) * factor);
}

// PyTorch's SGD (dampening 0), per element in double: g = grad + wd*param; with momentum,
// buf = momentum*buf + g (buf starts at zero, so the first step gives buf = g) and
// g = nesterov ? g + momentum*buf : buf; param -= lr*g.
template <class T>
void sgd_update(TensorView param, ConstTensorView grad, TensorView momentum, const SgdHyper& h) {
  T* pp = param.data_as<T>();
  const T* pg = grad.data_as<T>();
  T* pb = h.momentum != 0.0 ? momentum.data_as<T>() : nullptr;
  for (std::int64_t i = 0; i < param.numel(); ++i) {
    double g = static_cast<double>(pg[i]) + h.weight_decay * static_cast<double>(pp[i]);
    if (pb) {
      const double buf = h.momentum * static_cast<double>(pb[i]) + g;
      pb[i] = static_cast<T>(buf);
      g = h.nesterov ? g + h.momentum * buf : buf;
    }
    pp[i] = static_cast<T>(static_cast<double>(pp[i]) - h.lr * g);
  }
}

// PyTorch's Adam/AdamW, per element in double: m = b1*m + (1-b1)*g, v = b2*v + (1-b2)*g²,
// param -= (lr / (1-b1^t)) * m / (sqrt(v) / sqrt(1-b2^t) + eps).
template <class T>
void adam_update(TensorView param, ConstTensorView grad, TensorView m, TensorView v, const AdamHyper& h) {
  T* pp = param.data_as<T>();
  const T* pg = grad.data_as<T>();
  T* pm = m.data_as<T>();
  T* pv = v.data_as<T>();
  const double t = static_cast<double>(h.step);
  const double step_size = h.lr / (1.0 - std::pow(h.beta1, t));
  const double bias_correction2_sqrt = std::sqrt(1.0 - std::pow(h.beta2, t));
  const double decay = h.decoupled ? 1.0 - h.lr * h.weight_decay : 1.0;
  for (std::int64_t i = 0; i < param.numel(); ++i) {
    double p = static_cast<double>(pp[i]);
    double g = static_cast<double>(pg[i]);
    if (h.decoupled) {
      p *= decay;
    } else {
      g += h.weight_decay * p;
    }
    const double mi = h.beta1 * static_cast<double>(pm[i]) + (1.0 - h.beta1) * g;
    const double vi = h.beta2 * static_cast<double>(pv[i]) + (1.0 - h.beta2) * g * g;
    pm[i] = static_cast<T>(mi);
    pv[i] = static_cast<T>(vi);
    pp[i] = static_cast<T>(p - step_size * mi / (std::sqrt(vi) / bias_correction2_sqrt + h.eps));
  }
}

class CpuTrainOps final : public TrainOps {
 public:
  Device device() const override { return Device::cpu(); }
  void set_stream(void* /*stream*/) override {}

  void linear_forward(ConstTensorView x, ConstTensorView w, ConstTensorView b, TensorView y) override {
    detail::visit_floating(checks::linear_forward(device(), x, w, b, y), [&](auto tag) {
      train::linear_forward<decltype(tag)>(x, w, b, y);
    });
  }
  void linear_backward(ConstTensorView x, ConstTensorView w, ConstTensorView dy, TensorView dx,
                       TensorView dw, TensorView db, bool accumulate) override {
    detail::visit_floating(checks::linear_backward(device(), x, w, dy, dx, dw, db), [&](auto tag) {
      train::linear_backward<decltype(tag)>(x, w, dy, dx, dw, db, accumulate);
    });
  }
  void embedding_forward(ConstTensorView table, ConstTensorView ids, TensorView y) override {
    const DType dt = checks::embedding_forward(device(), table, ids, y);
    check_ids("TrainOps::embedding_forward", "ids", ids, table.dim(0), false, 0);
    detail::visit_floating(dt, [&](auto tag) { train::embedding_forward<decltype(tag)>(table, ids, y); });
  }
  void embedding_backward(ConstTensorView ids, ConstTensorView dy, TensorView dtable,
                          bool accumulate) override {
    const DType dt = checks::embedding_backward(device(), ids, dy, dtable);
    check_ids("TrainOps::embedding_backward", "ids", ids, dtable.dim(0), false, 0);
    detail::visit_floating(dt, [&](auto tag) {
      train::embedding_backward<decltype(tag)>(ids, dy, dtable, accumulate);
    });
  }
  void dropout_forward(ConstTensorView x, double p, std::uint64_t seed, std::uint64_t stream_id,
                       TensorView y) override {
    const DType dt = checks::dropout("TrainOps::dropout_forward", device(), "x", x, p, "y", y);
    detail::visit_floating(dt, [&](auto tag) { dropout_apply<decltype(tag)>(x, p, seed, stream_id, y); });
  }
  void dropout_backward(ConstTensorView dy, double p, std::uint64_t seed, std::uint64_t stream_id,
                        TensorView dx) override {
    const DType dt = checks::dropout("TrainOps::dropout_backward", device(), "dy", dy, p, "dx", dx);
    detail::visit_floating(dt, [&](auto tag) { dropout_apply<decltype(tag)>(dy, p, seed, stream_id, dx); });
  }
  LossSum softmax_cross_entropy(ConstTensorView logits, ConstTensorView targets, std::int32_t ignore_index,
                                double grad_scale, TensorView dlogits) override {
    const DType dt = checks::softmax_cross_entropy(device(), logits, targets, grad_scale, dlogits);
    check_ids("TrainOps::softmax_cross_entropy", "targets", targets, logits.dim(1), true, ignore_index);
    return detail::visit_floating(dt, [&](auto tag) {
      return train::softmax_cross_entropy<decltype(tag)>(logits, targets, ignore_index, grad_scale, dlogits);
    });
  }
  LossSum mean_squared_error(ConstTensorView pred, ConstTensorView target, ConstTensorView mask,
                             double grad_scale, TensorView dpred) override {
    const DType dt = checks::mean_squared_error(device(), pred, target, mask, grad_scale, dpred);
    return detail::visit_floating(dt, [&](auto tag) {
      return train::mean_squared_error<decltype(tag)>(pred, target, mask, grad_scale, dpred);
    });
  }
  void attention_scores(ConstTensorView query, ConstTensorView keys, TensorView scores) override {
    detail::visit_floating(checks::attention_scores(device(), query, keys, scores), [&](auto tag) {
      cpu_attention::attention_scores<decltype(tag)>(query, keys, scores);
    });
  }
  void attention_scores_backward(ConstTensorView query, ConstTensorView keys, ConstTensorView dscores,
                                 TensorView dquery, TensorView dkeys, bool accumulate) override {
    const DType dt = checks::attention_scores_backward(device(), query, keys, dscores, dquery, dkeys);
    detail::visit_floating(dt, [&](auto tag) {
      cpu_attention::attention_scores_backward<decltype(tag)>(query, keys, dscores, dquery, dkeys, accumulate);
    });
  }
  void attention_context(ConstTensorView weights, ConstTensorView values, TensorView context) override {
    detail::visit_floating(checks::attention_context(device(), weights, values, context), [&](auto tag) {
      cpu_attention::attention_context<decltype(tag)>(weights, values, context);
    });
  }
  void attention_context_backward(ConstTensorView weights, ConstTensorView values, ConstTensorView dcontext,
                                  TensorView dweights, TensorView dvalues, bool accumulate) override {
    const DType dt = checks::attention_context_backward(device(), weights, values, dcontext, dweights, dvalues);
    detail::visit_floating(dt, [&](auto tag) {
      cpu_attention::attention_context_backward<decltype(tag)>(weights, values, dcontext, dweights, dvalues,
                                                               accumulate);
    });
  }
  void additive_scores(ConstTensorView query, ConstTensorView keys, ConstTensorView v,
                       TensorView scores) override {
    detail::visit_floating(checks::additive_scores(device(), query, keys, v, scores), [&](auto tag) {
      cpu_attention::additive_scores<decltype(tag)>(query, keys, v, scores);
    });
  }
  void additive_scores_backward(ConstTensorView query, ConstTensorView keys, ConstTensorView v,
                                ConstTensorView dscores, TensorView dquery, TensorView dkeys, TensorView dv,
                                bool accumulate) override {
    const DType dt = checks::additive_scores_backward(device(), query, keys, v, dscores, dquery, dkeys, dv);
    detail::visit_floating(dt, [&](auto tag) {
      cpu_attention::additive_scores_backward<decltype(tag)>(query, keys, v, dscores, dquery, dkeys, dv,
                                                             accumulate);
    });
  }
  void mask_scores(TensorView scores, ConstTensorView lengths, ConstTensorView excluded) override {
    const DType dt = checks::mask_scores(device(), scores, lengths, excluded);
    if (!lengths.empty()) cpu_attention::check_lengths(lengths, scores.dim(2));
    detail::visit_floating(dt, [&](auto tag) {
      cpu_attention::mask_scores<decltype(tag)>(scores, lengths, excluded);
    });
  }
  void softmax(ConstTensorView x, TensorView y) override {
    detail::visit_floating(checks::softmax(device(), x, y),
                           [&](auto tag) { cpu_attention::softmax<decltype(tag)>(x, y); });
  }
  void softmax_backward(ConstTensorView y, ConstTensorView dy, TensorView dx) override {
    detail::visit_floating(checks::softmax_backward(device(), y, dy, dx),
                           [&](auto tag) { cpu_attention::softmax_backward<decltype(tag)>(y, dy, dx); });
  }
  void tanh_forward(ConstTensorView x, TensorView y) override {
    detail::visit_floating(checks::tanh_forward(device(), x, y),
                           [&](auto tag) { cpu_attention::tanh_forward<decltype(tag)>(x, y); });
  }
  void tanh_backward(ConstTensorView y, ConstTensorView dy, TensorView dx) override {
    detail::visit_floating(checks::tanh_backward(device(), y, dy, dx),
                           [&](auto tag) { cpu_attention::tanh_backward<decltype(tag)>(y, dy, dx); });
  }
  void add_scaled(ConstTensorView x, double alpha, TensorView y) override {
    detail::visit_floating(checks::add_scaled(device(), x, alpha, y),
                           [&](auto tag) { cpu_attention::add_scaled<decltype(tag)>(x, alpha, y); });
  }
  double sum_squares(ConstTensorView x) override {
    return detail::visit_floating(checks::sum_squares(device(), x),
                                  [&](auto tag) { return train::sum_squares<decltype(tag)>(x); });
  }
  void copy(ConstTensorView src, TensorView dst) override {
    checks::copy(device(), src, dst);
    if (src.numel() > 0) std::memmove(dst.data(), src.data(), src.bytes());
  }
  void scale(TensorView x, double factor) override {
    detail::visit_floating(checks::scale(device(), x, factor),
                           [&](auto tag) { train::scale<decltype(tag)>(x, factor); });
  }
  void sgd_update(TensorView param, ConstTensorView grad, TensorView momentum,
                  const SgdHyper& hyper) override {
    detail::visit_floating(checks::sgd_update(device(), param, grad, momentum, hyper), [&](auto tag) {
      train::sgd_update<decltype(tag)>(param, grad, momentum, hyper);
    });
  }
  void adam_update(TensorView param, ConstTensorView grad, TensorView m, TensorView v,
                   const AdamHyper& hyper) override {
    detail::visit_floating(checks::adam_update(device(), param, grad, m, v, hyper), [&](auto tag) {
      train::adam_update<decltype(tag)>(param, grad, m, v, hyper);
    });
  }
};

}  // namespace

std::unique_ptr<TrainOps> make_cpu_train_ops() { return std::make_unique<CpuTrainOps>(); }

}  // namespace gpurnn::train
