#include "gpurnn/train/optimizer.h"

#include <cmath>
#include <set>
#include <utility>

namespace gpurnn::train {
namespace {

std::string describe(const Tensor& t) {
  return to_string(t.shape()) + " " + to_string(t.dtype()) + " on " + to_string(t.device());
}

// A Parameter's tensors are shared handles (writing through them is what an optimizer is for),
// but reach it as const members: a view of the same storage.
TensorView writable(const Tensor& t) { return Tensor(t).view(); }

// Names unique and non-empty; every value defined with a gradient of its shape, dtype, device.
void check_parameters(const char* call, const std::vector<Parameter>& params) {
  std::set<std::string> seen;
  for (const Parameter& p : params) {
    check_argument(!p.name.empty(), call, "params", "has a parameter with an empty name");
    check_argument(seen.insert(p.name).second, call, "params",
                   [&] { return "has two parameters named '" + p.name + "', expected unique names"; });
    check_argument(p.value.defined(), call, "params", [&] { return "has '" + p.name + "' with an undefined value"; });
    check_argument(p.grad.defined() && p.grad.shape() == p.value.shape() && p.grad.dtype() == p.value.dtype() &&
                       p.grad.device() == p.value.device(),
                   call, "params", [&] {
                     return "has '" + p.name + "' whose grad is " +
                            (p.grad.defined() ? describe(p.grad) : "undefined") + ", expected " + describe(p.value) +
                            " like its value";
                   });
  }
}

// The per-parameter state of one optimizer kind ("momentum_buffer"; "exp_avg", "exp_avg_sq"),
// created lazily, plus the update count. Subclasses give the update of one parameter.
class StatefulOptimizer : public Optimizer {
 public:
  StatefulOptimizer(OptimizerConfig config, std::vector<std::string> state_names)
      : config_(std::move(config)), state_names_(std::move(state_names)) {}

  std::string kind() const override { return config_.kind; }
  std::int64_t steps() const override { return steps_; }

  void step(TrainOps& ops, const std::vector<Parameter>& params, double lr) override {
    check_argument(std::isfinite(lr) && lr >= 0.0, "Optimizer::step", "lr",
                   [&] { return "is " + std::to_string(lr) + ", expected a finite learning rate >= 0"; });
    check_parameters("Optimizer::step", params);
    // Every parameter's state is checked, then found or made, before the first update, so a
    // mismatch leaves every parameter and the state untouched.
    for (const Parameter& p : params) check_state_matches(p);
    std::vector<std::vector<Tensor>*> states;
    for (const Parameter& p : params) states.push_back(&state_for(p));
    for (std::size_t i = 0; i < params.size(); ++i) update(ops, params[i], *states[i], lr);
    ++steps_;
  }

  std::map<std::string, Tensor> state_dict() const override {
    std::map<std::string, Tensor> out;
    for (const auto& [name, tensors] : state_) {
      for (std::size_t k = 0; k < state_names_.size(); ++k) out[name + "." + state_names_[k]] = tensors[k];
    }
    out["step"] = Tensor::from_host<std::int64_t>({1}, &steps_);
    return out;
  }

  void load_state_dict(const std::map<std::string, Tensor>& state,
                       const std::vector<Parameter>& params) override {
    const char* call = "Optimizer::load_state_dict";
    check_parameters(call, params);
    const auto step_it = state.find("step");
    check_argument(step_it != state.end(), call, "state", "lacks key 'step'");
    const Tensor& step_tensor = step_it->second;
    check_argument(step_tensor.defined() && step_tensor.dtype() == DType::i64 && step_tensor.numel() == 1 &&
                       step_tensor.device().is_cpu(),
                   call, "state", [&] {
                     return "has key 'step' " + (step_tensor.defined() ? describe(step_tensor) : "undefined") +
                            ", expected [1] i64 on cpu";
                   });
    const std::int64_t steps = *step_tensor.data_as<std::int64_t>();
    check_argument(steps >= 0, call, "state",
                   [&] { return "has key 'step' = " + std::to_string(steps) + ", expected >= 0"; });

    std::map<std::string, std::vector<Tensor>> loaded;
    for (const Parameter& p : params) {
      if (state_names_.empty()) break;
      std::vector<Tensor>& tensors = loaded[p.name];
      for (const std::string& s : state_names_) {
        const std::string key = p.name + "." + s;
        const auto it = state.find(key);
        check_argument(it != state.end(), call, "state", [&] { return "lacks key '" + key + "'"; });
        const Tensor& t = it->second;
        check_argument(t.defined() && t.shape() == p.value.shape() && t.dtype() == p.value.dtype(), call, "state", [&] {
          return "has key '" + key + "' " + (t.defined() ? describe(t) : "undefined") + ", expected " +
                 to_string(p.value.shape()) + " " + to_string(p.value.dtype()) + " like parameter '" + p.name + "'";
        });
        tensors.push_back(t.to(p.value.device()));  // always a copy: the optimizer owns its state
      }
    }
    state_ = std::move(loaded);
    steps_ = steps;
  }

 protected:
  virtual void update(TrainOps& ops, const Parameter& p, std::vector<Tensor>& state, double lr) = 0;
  const OptimizerConfig& config() const { return config_; }

 private:
  // The state of `p`, zeros the first time its name is seen.
  std::vector<Tensor>& state_for(const Parameter& p) {
    auto it = state_.find(p.name);
    if (it != state_.end()) return it->second;
    std::vector<Tensor> fresh;
    for (std::size_t k = 0; k < state_names_.size(); ++k) {
      fresh.push_back(Tensor::zeros(p.value.shape(), p.value.dtype(), p.value.device()));
    }
    return state_.emplace(p.name, std::move(fresh)).first->second;
  }

  // State kept under p's name must still fit p (shape, dtype, device).
  void check_state_matches(const Parameter& p) const {
    const auto it = state_.find(p.name);
    if (it == state_.end()) return;
    for (std::size_t k = 0; k < state_names_.size(); ++k) {
      const Tensor& t = it->second[k];
      check_argument(t.shape() == p.value.shape() && t.dtype() == p.value.dtype() && t.device() == p.value.device(),
                     "Optimizer::step", "params", [&] {
                       return "has '" + p.name + "' " + describe(p.value) + " but its state '" + p.name + "." +
                              state_names_[k] + "' is " + describe(t) + "; a parameter may not change shape";
                     });
    }
  }

  OptimizerConfig config_;
  std::vector<std::string> state_names_;
  std::map<std::string, std::vector<Tensor>> state_;
  std::int64_t steps_ = 0;
};

class Sgd final : public StatefulOptimizer {
 public:
  explicit Sgd(const OptimizerConfig& c)
      : StatefulOptimizer(c, c.momentum != 0.0 ? std::vector<std::string>{"momentum_buffer"}
                                               : std::vector<std::string>{}) {}

 protected:
  void update(TrainOps& ops, const Parameter& p, std::vector<Tensor>& state, double lr) override {
    SgdHyper h;
    h.lr = lr;
    h.momentum = config().momentum;
    h.weight_decay = config().weight_decay;
    h.nesterov = config().nesterov;
    ops.sgd_update(writable(p.value), p.grad, state.empty() ? TensorView() : state[0].view(), h);
  }
};

class Adam final : public StatefulOptimizer {
 public:
  explicit Adam(const OptimizerConfig& c) : StatefulOptimizer(c, {"exp_avg", "exp_avg_sq"}) {}

 protected:
  void update(TrainOps& ops, const Parameter& p, std::vector<Tensor>& state, double lr) override {
    AdamHyper h;
    h.lr = lr;
    h.beta1 = config().beta1;
    h.beta2 = config().beta2;
    h.eps = config().eps;
    h.weight_decay = config().weight_decay;
    h.decoupled = config().kind == "adamw";
    h.step = steps() + 1;
    ops.adam_update(writable(p.value), p.grad, state[0], state[1], h);
  }
};

void check_unit_interval(const char* field, double value) {
  check_argument(value >= 0.0 && value < 1.0, "make_optimizer", field,
                 [&] { return "is " + std::to_string(value) + ", expected a value in [0, 1)"; });
}

}  // namespace

std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& config) {
  const std::string& kind = config.kind;
  check_argument(kind == "sgd" || kind == "adam" || kind == "adamw", "make_optimizer", "config.kind",
                 [&] { return "is '" + kind + "', expected one of: sgd, adam, adamw"; });
  check_argument(std::isfinite(config.weight_decay) && config.weight_decay >= 0.0, "make_optimizer",
                 "config.weight_decay",
                 [&] { return "is " + std::to_string(config.weight_decay) + ", expected a finite value >= 0"; });
  if (kind == "sgd") {
    check_unit_interval("config.momentum", config.momentum);
    check_argument(!config.nesterov || config.momentum > 0.0, "make_optimizer", "config.nesterov",
                   "is true with momentum 0, expected a momentum > 0 for Nesterov momentum");
    return std::make_unique<Sgd>(config);
  }
  check_unit_interval("config.beta1", config.beta1);
  check_unit_interval("config.beta2", config.beta2);
  check_argument(std::isfinite(config.eps) && config.eps > 0.0, "make_optimizer", "config.eps",
                 [&] { return "is " + std::to_string(config.eps) + ", expected a finite value > 0"; });
  return std::make_unique<Adam>(config);
}

double clip_grad_norm(TrainOps& ops, const std::vector<Parameter>& params, double max_norm) {
  check_argument(!std::isnan(max_norm), "clip_grad_norm", "max_norm", "is NaN, expected a number");
  check_parameters("clip_grad_norm", params);
  double sum = 0.0;
  for (const Parameter& p : params) sum += ops.sum_squares(p.grad);
  const double norm = std::sqrt(sum);
  // A non-finite norm is returned unclipped (scaling by max_norm/inf would zero every gradient).
  if (max_norm > 0.0 && std::isfinite(norm) && norm > max_norm) {
    for (const Parameter& p : params) ops.scale(writable(p.grad), max_norm / norm);
  }
  return norm;
}

}  // namespace gpurnn::train
