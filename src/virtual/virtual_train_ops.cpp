#include "virtual/virtual_train_ops.h"

#include "cpu/cpu_train_ops.h"
#include "platform/train_op_checks.h"
#include "virtual/virtual_memory.h"

namespace gpurnn::vdev {
namespace {

namespace checks = train::checks;

class VirtualTrainOps final : public train::TrainOps {
 public:
  explicit VirtualTrainOps(Device device) : device_(device), cpu_(train::make_cpu_train_ops()) {}

  Device device() const override { return device_; }
  void set_stream(void* /*stream*/) override {}

  void linear_forward(ConstTensorView x, ConstTensorView w, ConstTensorView b, TensorView y) override {
    checks::linear_forward(device_, x, w, b, y);
    cpu_->linear_forward(on(x), on(w), on(b), on(y));
  }
  void linear_backward(ConstTensorView x, ConstTensorView w, ConstTensorView dy, TensorView dx, TensorView dw,
                       TensorView db, bool accumulate) override {
    checks::linear_backward(device_, x, w, dy, dx, dw, db);
    cpu_->linear_backward(on(x), on(w), on(dy), on(dx), on(dw), on(db), accumulate);
  }
  void embedding_forward(ConstTensorView table, ConstTensorView ids, TensorView y) override {
    checks::embedding_forward(device_, table, ids, y);
    cpu_->embedding_forward(on(table), on(ids), on(y));
  }
  void embedding_backward(ConstTensorView ids, ConstTensorView dy, TensorView dtable, bool accumulate) override {
    checks::embedding_backward(device_, ids, dy, dtable);
    cpu_->embedding_backward(on(ids), on(dy), on(dtable), accumulate);
  }
  void dropout_forward(ConstTensorView x, double p, std::uint64_t seed, std::uint64_t stream_id,
                       TensorView y) override {
    checks::dropout("TrainOps::dropout_forward", device_, "x", x, p, "y", y);
    cpu_->dropout_forward(on(x), p, seed, stream_id, on(y));
  }
  void dropout_backward(ConstTensorView dy, double p, std::uint64_t seed, std::uint64_t stream_id,
                        TensorView dx) override {
    checks::dropout("TrainOps::dropout_backward", device_, "dy", dy, p, "dx", dx);
    cpu_->dropout_backward(on(dy), p, seed, stream_id, on(dx));
  }
  train::LossSum softmax_cross_entropy(ConstTensorView logits, ConstTensorView targets, std::int32_t ignore_index,
                                       double grad_scale, TensorView dlogits) override {
    checks::softmax_cross_entropy(device_, logits, targets, grad_scale, dlogits);
    return cpu_->softmax_cross_entropy(on(logits), on(targets), ignore_index, grad_scale, on(dlogits));
  }
  train::LossSum mean_squared_error(ConstTensorView pred, ConstTensorView target, ConstTensorView mask,
                                    double grad_scale, TensorView dpred) override {
    checks::mean_squared_error(device_, pred, target, mask, grad_scale, dpred);
    return cpu_->mean_squared_error(on(pred), on(target), on(mask), grad_scale, on(dpred));
  }
  void attention_scores(ConstTensorView query, ConstTensorView keys, TensorView scores) override {
    checks::attention_scores(device_, query, keys, scores);
    cpu_->attention_scores(on(query), on(keys), on(scores));
  }
  void attention_scores_backward(ConstTensorView query, ConstTensorView keys, ConstTensorView dscores,
                                 TensorView dquery, TensorView dkeys, bool accumulate) override {
    checks::attention_scores_backward(device_, query, keys, dscores, dquery, dkeys);
    cpu_->attention_scores_backward(on(query), on(keys), on(dscores), on(dquery), on(dkeys), accumulate);
  }
  void attention_context(ConstTensorView weights, ConstTensorView values, TensorView context) override {
    checks::attention_context(device_, weights, values, context);
    cpu_->attention_context(on(weights), on(values), on(context));
  }
  void attention_context_backward(ConstTensorView weights, ConstTensorView values, ConstTensorView dcontext,
                                  TensorView dweights, TensorView dvalues, bool accumulate) override {
    checks::attention_context_backward(device_, weights, values, dcontext, dweights, dvalues);
    cpu_->attention_context_backward(on(weights), on(values), on(dcontext), on(dweights), on(dvalues), accumulate);
  }
  void additive_scores(ConstTensorView query, ConstTensorView keys, ConstTensorView v, TensorView scores) override {
    checks::additive_scores(device_, query, keys, v, scores);
    cpu_->additive_scores(on(query), on(keys), on(v), on(scores));
  }
  void additive_scores_backward(ConstTensorView query, ConstTensorView keys, ConstTensorView v,
                                ConstTensorView dscores, TensorView dquery, TensorView dkeys, TensorView dv,
                                bool accumulate) override {
    checks::additive_scores_backward(device_, query, keys, v, dscores, dquery, dkeys, dv);
    cpu_->additive_scores_backward(on(query), on(keys), on(v), on(dscores), on(dquery), on(dkeys), on(dv),
                                   accumulate);
  }
  void mask_scores(TensorView scores, ConstTensorView lengths, ConstTensorView excluded) override {
    checks::mask_scores(device_, scores, lengths, excluded);
    cpu_->mask_scores(on(scores), on(lengths), on(excluded));
  }
  void softmax(ConstTensorView x, TensorView y) override {
    checks::softmax(device_, x, y);
    cpu_->softmax(on(x), on(y));
  }
  void softmax_backward(ConstTensorView y, ConstTensorView dy, TensorView dx) override {
    checks::softmax_backward(device_, y, dy, dx);
    cpu_->softmax_backward(on(y), on(dy), on(dx));
  }
  void tanh_forward(ConstTensorView x, TensorView y) override {
    checks::tanh_forward(device_, x, y);
    cpu_->tanh_forward(on(x), on(y));
  }
  void tanh_backward(ConstTensorView y, ConstTensorView dy, TensorView dx) override {
    checks::tanh_backward(device_, y, dy, dx);
    cpu_->tanh_backward(on(y), on(dy), on(dx));
  }
  void add_scaled(ConstTensorView x, double alpha, TensorView y) override {
    checks::add_scaled(device_, x, alpha, y);
    cpu_->add_scaled(on(x), alpha, on(y));
  }
  double sum_squares(ConstTensorView x) override {
    checks::sum_squares(device_, x);
    return cpu_->sum_squares(on(x));
  }
  void scale(TensorView x, double factor) override {
    checks::scale(device_, x, factor);
    cpu_->scale(on(x), factor);
  }
  void copy(ConstTensorView src, TensorView dst) override {
    checks::copy(device_, src, dst);  // each side on this device or the host
    cpu_->copy(on(src), on(dst));
  }
  void sgd_update(TensorView param, ConstTensorView grad, TensorView momentum, const train::SgdHyper& hyper) override {
    checks::sgd_update(device_, param, grad, momentum, hyper);
    cpu_->sgd_update(on(param), on(grad), on(momentum), hyper);
  }
  void adam_update(TensorView param, ConstTensorView grad, TensorView m, TensorView v,
                   const train::AdamHyper& hyper) override {
    checks::adam_update(device_, param, grad, m, v, hyper);
    cpu_->adam_update(on(param), on(grad), on(m), on(v), hyper);
  }

 private:
  // A checked view as the cpu ops read it: this device's memory through its alias, host memory
  // (copy's other side) as it is, an empty view (an omitted optional) still empty.
  template <class Void>
  BasicTensorView<Void> on(BasicTensorView<Void> v) const {
    if (v.device().is_cpu()) return v;
    if (v.empty()) return BasicTensorView<Void>(nullptr, v.shape(), v.dtype(), Device::cpu());
    return BasicTensorView<Void>(host_alias(v.data(), device_, "TrainOps", "a tensor"), v.shape(), v.dtype(),
                                 Device::cpu());
  }

  Device device_;
  std::unique_ptr<train::TrainOps> cpu_;
};

}  // namespace

std::unique_ptr<train::TrainOps> make_virtual_train_ops(Device device) {
  require_virtual_device(device, "make_train_ops");
  return std::make_unique<VirtualTrainOps>(device);
}

}  // namespace gpurnn::vdev
