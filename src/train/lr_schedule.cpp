#include <cmath>

#include "gpurnn/train/optimizer.h"

namespace gpurnn::train {
namespace {

void check_steps(const char* field, std::int64_t value) {
  check_argument(value >= 0, "LrSchedule", field, "is " + std::to_string(value) + ", expected >= 0");
}

}  // namespace

LrSchedule::LrSchedule(const ScheduleConfig& config) : config_(config) {
  const ScheduleConfig& c = config_;
  check_argument(c.kind == "constant" || c.kind == "step" || c.kind == "cosine", "LrSchedule",
                 "config.kind", "is '" + c.kind + "', expected one of: constant, step, cosine");
  check_argument(std::isfinite(c.base_lr) && c.base_lr > 0.0, "LrSchedule", "config.base_lr",
                 "is " + std::to_string(c.base_lr) + ", expected a finite value > 0");
  check_steps("config.warmup_steps", c.warmup_steps);
  check_steps("config.step_size", c.step_size);
  check_steps("config.total_steps", c.total_steps);
  if (c.kind == "step") {
    check_argument(c.step_size > 0, "LrSchedule", "config.step_size",
                   "is 0, expected a step size >= 1 for kind 'step'");
    check_argument(std::isfinite(c.gamma) && c.gamma > 0.0, "LrSchedule", "config.gamma",
                   "is " + std::to_string(c.gamma) + ", expected a finite value > 0");
  }
  if (c.kind == "cosine") {
    check_argument(c.total_steps > c.warmup_steps, "LrSchedule", "config.total_steps",
                   "is " + std::to_string(c.total_steps) + ", expected more than warmup_steps (" +
                       std::to_string(c.warmup_steps) + ") for kind 'cosine'");
    check_argument(std::isfinite(c.min_lr) && c.min_lr >= 0.0 && c.min_lr <= c.base_lr, "LrSchedule",
                   "config.min_lr", "is " + std::to_string(c.min_lr) + ", expected a value in [0, base_lr]");
  }
}

double LrSchedule::lr(std::int64_t step) const {
  check_argument(step >= 0, "LrSchedule::lr", "step", "is " + std::to_string(step) + ", expected >= 0");
  const ScheduleConfig& c = config_;
  // Warm-up: base_lr * (step + 1) / warmup_steps, reaching base_lr at step warmup_steps - 1.
  if (step < c.warmup_steps) {
    return c.base_lr * static_cast<double>(step + 1) / static_cast<double>(c.warmup_steps);
  }
  const std::int64_t after = step - c.warmup_steps;  // steps since the warm-up ended
  if (c.kind == "step") {
    return c.base_lr * std::pow(c.gamma, static_cast<double>(after / c.step_size));
  }
  if (c.kind == "cosine") {
    const std::int64_t span = c.total_steps - c.warmup_steps;
    if (after >= span) return c.min_lr;
    const double progress = static_cast<double>(after) / static_cast<double>(span);
    return c.min_lr + (c.base_lr - c.min_lr) * 0.5 * (1.0 + std::cos(3.141592653589793 * progress));
  }
  return c.base_lr;
}

}  // namespace gpurnn::train
