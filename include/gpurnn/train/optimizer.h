#pragma once
// Optimizers (SGD with momentum, Adam, AdamW), global-norm gradient clipping and learning-rate
// schedules. Updates run on the parameters' device through TrainOps (one fused update per
// parameter tensor).

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gpurnn/train/layers.h"

namespace gpurnn::train {

struct OptimizerConfig {
  std::string kind = "adam";  // "sgd", "adam", "adamw"
  double momentum = 0.0;      // sgd
  bool nesterov = false;      // sgd
  double beta1 = 0.9;         // adam, adamw
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;  // sgd/adam: L2 on the gradient; adamw: decoupled
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string kind() const = 0;
  // One update of every parameter from its gradient, at learning rate `lr`. State tensors are
  // created (zeros, on the parameter's device) the first time a parameter name is seen.
  virtual void step(TrainOps& ops, const std::vector<Parameter>& params, double lr) = 0;
  // Updates done so far.
  virtual std::int64_t steps() const = 0;

  // Every state tensor, keyed "<parameter name>.<state>" (e.g. "rnn.exp_avg"), plus "step"
  // (i64 [1] on the CPU). Tensors are the optimizer's own (on the parameters' device): clone
  // them to keep a snapshot. States use PyTorch's names: sgd "momentum_buffer" (only when
  // momentum != 0); adam and adamw "exp_avg", "exp_avg_sq". Adam's bias corrections use
  // steps() + 1 for every parameter (PyTorch counts per parameter; they differ only for a
  // parameter that joins after the first step).
  virtual std::map<std::string, Tensor> state_dict() const = 0;
  // Restores a state_dict() (CPU or device tensors; copied to the parameters' device). Every
  // key the optimizer needs for `params` must be present with the parameter's shape and dtype;
  // Error(invalid_argument) names the first missing or mismatched key, and then nothing is
  // replaced. Keys of other parameters are ignored; state of parameters not in `params` is
  // dropped.
  virtual void load_state_dict(const std::map<std::string, Tensor>& state,
                               const std::vector<Parameter>& params) = 0;
};

// Error(invalid_argument) naming the field for an unknown kind or a hyper-parameter out of range
// (momentum, betas in [0, 1), eps > 0, weight_decay >= 0).
std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& config);

// The global L2 norm of all gradients; when max_norm > 0 and the norm exceeds it, every gradient
// is scaled by max_norm / norm. Returns the norm before clipping. max_norm <= 0: norm only.
// A non-finite norm (inf or NaN gradients) is returned and nothing is scaled.
double clip_grad_norm(TrainOps& ops, const std::vector<Parameter>& params, double max_norm);

struct ScheduleConfig {
  std::string kind = "constant";  // "constant", "step", "cosine"
  double base_lr = 1e-3;
  std::int64_t warmup_steps = 0;  // linear warm-up from base_lr/warmup_steps to base_lr
  std::int64_t step_size = 0;     // step: multiply by gamma every step_size steps (after warm-up)
  double gamma = 0.1;
  std::int64_t total_steps = 0;   // cosine: decays to min_lr at total_steps
  double min_lr = 0.0;
};

class LrSchedule {
 public:
  // Error(invalid_argument) naming the field for an unknown kind or inconsistent values
  // (base_lr <= 0, negative steps, step without step_size, cosine without total_steps).
  explicit LrSchedule(const ScheduleConfig& config);
  // The learning rate of update number `step` (0-based).
  double lr(std::int64_t step) const;
  const ScheduleConfig& config() const { return config_; }

 private:
  ScheduleConfig config_;
};

}  // namespace gpurnn::train
