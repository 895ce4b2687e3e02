#pragma once
// The Mackey-Glass delay differential equation
//   dx/dt = beta * x(t - tau) / (1 + x(t - tau)^n) - gamma * x(t)
// with tau = 17, beta = 0.2, gamma = 0.1, n = 10 (chaotic), integrated by fourth-order
// Runge-Kutta with a fixed step of 0.1 from the constant history x = 1.2; the delayed value at
// a half step is the mean of its two neighbours. Sampled every 1 time unit after discarding the
// first `transient` time units.

#include <cstdint>
#include <vector>

namespace gpurnn::train::tasks {

struct MackeyGlass {
  double tau = 17.0;
  double beta = 0.2;
  double gamma = 0.1;
  double n = 10.0;
  double step = 0.1;       // integration step; tau / step and 1 / step must be whole numbers
  double initial = 1.2;    // x on [-tau, 0]
  std::int64_t transient = 1000;  // time units discarded
};

std::vector<double> mackey_glass_series(std::int64_t samples, const MackeyGlass& equation = {});

}  // namespace gpurnn::train::tasks
