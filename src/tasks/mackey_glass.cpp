#include "tasks/mackey_glass.h"

#include <cmath>

namespace gpurnn::train::tasks {

std::vector<double> mackey_glass_series(std::int64_t samples, const MackeyGlass& eq) {
  const auto delay = static_cast<std::size_t>(std::lround(eq.tau / eq.step));
  const auto per_sample = static_cast<std::int64_t>(std::lround(1.0 / eq.step));
  auto rate = [&](double x, double delayed) {
    return eq.beta * delayed / (1.0 + std::pow(delayed, eq.n)) - eq.gamma * x;
  };
  // history[i]: x at step i - delay; history grows by one value per step.
  std::vector<double> history(delay + 1, eq.initial);
  const std::int64_t total_steps = (eq.transient + samples) * per_sample;
  std::vector<double> series;
  series.reserve(static_cast<std::size_t>(samples));
  for (std::int64_t s = 0; s < total_steps; ++s) {
    const std::size_t now = history.size() - 1;
    const double x = history[now];
    const double delayed_now = history[now - delay];
    const double delayed_next = history[now - delay + 1];
    const double delayed_mid = 0.5 * (delayed_now + delayed_next);
    const double k1 = rate(x, delayed_now);
    const double k2 = rate(x + 0.5 * eq.step * k1, delayed_mid);
    const double k3 = rate(x + 0.5 * eq.step * k2, delayed_mid);
    const double k4 = rate(x + eq.step * k3, delayed_next);
    history.push_back(x + eq.step / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4));
    if ((s + 1) % per_sample == 0 && (s + 1) / per_sample > eq.transient) {
      series.push_back(history.back());
    }
  }
  return series;
}

}  // namespace gpurnn::train::tasks
