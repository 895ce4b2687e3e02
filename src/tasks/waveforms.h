#pragma once
// The classify task's examples: noisy periodic waveforms seen by several sensors.
//
// An example of kind k has a length L uniform in [min_length, max_length], a frequency f uniform
// in [1/16, 1/5] cycles per frame and a phase φ uniform in [0, 1) cycles. Sensor c (one feature
// channel) sees amplitude a_c uniform in [0.5, 1.5], offset o_c uniform in [-0.3, 0.3] and lag
// l_c uniform in [0, 0.25] cycles:
//   x_c(t) = o_c + a_c * shape_k(φ + l_c + f * t * (chirp ? 1 + 0.75 t / L : 1)) + noise
// where noise is normal with standard deviation kWaveformNoise. The chirp's frequency rises
// from f to 2.5 f over the sequence; the other kinds keep f.

#include <array>
#include <cstdint>
#include <vector>

#include "tasks/counter_rng.h"

namespace gpurnn::train::tasks {

enum class Waveform : std::int32_t { sine, square, sawtooth, triangle, chirp };
constexpr std::int32_t kWaveformKinds = 5;
constexpr std::int64_t kWaveformChannels = 3;
constexpr double kWaveformNoise = 0.25;

struct WaveformParams {
  Waveform kind = Waveform::sine;
  std::int64_t length = 0;
  double frequency = 0.0;  // cycles per frame
  double phase = 0.0;      // cycles
  std::array<double, kWaveformChannels> amplitude{}, offset{}, lag{};
};

// One period of each kind at `cycles` (any real; the fractional part counts), in [-1, 1].
double waveform_shape(Waveform kind, double cycles);
// Draws everything but the noise.
WaveformParams draw_waveform(CounterRng& rng, std::int64_t min_length, std::int64_t max_length);
// The frames [length, kWaveformChannels], row-major, with noise of standard deviation `noise`
// drawn from `rng` (0: the clean signal).
std::vector<float> render_waveform(const WaveformParams& params, double noise, CounterRng& rng);

}  // namespace gpurnn::train::tasks
