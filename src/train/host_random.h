#pragma once
// Random draws for initialising parameters on the host. std::mt19937_64's output sequence is
// fixed by the C++ standard; the transforms to uniform and normal values are written here rather
// than taken from <random>'s distributions, whose algorithms differ between standard libraries.
// So a seed gives the same initial weights with any compiler.

#include <cmath>
#include <cstdint>
#include <random>

namespace gpurnn::train {

class HostRandom {
 public:
  explicit HostRandom(std::uint64_t seed) : engine_(seed) {}

  // Uniform in [0, 1) from the top 53 bits of one draw.
  double uniform() { return static_cast<double>(engine_() >> 11) * (1.0 / 9007199254740992.0); }
  // Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Standard normal by Box-Muller from two draws (the second value of the pair is not kept, so
  // each call consumes exactly two draws).
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]: log is finite
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace gpurnn::train
