#pragma once
// A counter-based random generator: the numbers drawn depend only on a key (seed, stream,
// index, row), never on what was drawn before elsewhere. Batch i of a source is then a pure
// function of (seed, i), on any thread. Each key seeds a SplitMix64 sequence through a
// SplitMix64 hash of the key words; the sequences of different keys are unrelated.

#include <cmath>
#include <cstdint>
#include <initializer_list>

namespace gpurnn::train::tasks {

class CounterRng {
 public:
  // `key`: the words that name this sequence, e.g. {seed, kTrainStream, batch_index, row}.
  CounterRng(std::initializer_list<std::uint64_t> key) {
    for (std::uint64_t word : key) state_ = mix(state_ ^ mix(word + kGolden));
  }

  std::uint64_t next() { return mix(state_ += kGolden); }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double low, double high) { return low + (high - low) * uniform(); }
  // Uniform in [0, n), n > 0 (the modulo bias is below 2^-40 for any n used here).
  std::int64_t below(std::int64_t n) {
    return static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(n));
  }
  // Standard normal (Box-Muller; one value per call).
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]: log is finite
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.14159265358979323846 * u2);
  }

 private:
  static constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ull;
  static std::uint64_t mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::uint64_t state_ = 0x6A09E667F3BCC909ull;
};

// The stream word of a key: train and evaluation data never share numbers.
enum : std::uint64_t { kTrainStream = 1, kEvalStream = 2, kDatasetStream = 3, kShuffleStream = 4 };

}  // namespace gpurnn::train::tasks
