#include "tasks/waveforms.h"

#include <cmath>

namespace gpurnn::train::tasks {
namespace {
constexpr double kTwoPi = 6.28318530717958647692;
}  // namespace

double waveform_shape(Waveform kind, double cycles) {
  const double fraction = cycles - std::floor(cycles);
  switch (kind) {
    case Waveform::sine:
    case Waveform::chirp: return std::sin(kTwoPi * fraction);
    case Waveform::square: return fraction < 0.5 ? 1.0 : -1.0;
    case Waveform::sawtooth: return 2.0 * fraction - 1.0;
    case Waveform::triangle: return 1.0 - 4.0 * std::fabs(fraction - 0.5);
  }
  return 0.0;
}

WaveformParams draw_waveform(CounterRng& rng, std::int64_t min_length, std::int64_t max_length) {
  WaveformParams params;
  params.kind = static_cast<Waveform>(rng.below(kWaveformKinds));
  params.length = min_length + rng.below(max_length - min_length + 1);
  params.frequency = rng.uniform(1.0 / 16.0, 1.0 / 5.0);
  params.phase = rng.uniform();
  for (std::size_t c = 0; c < kWaveformChannels; ++c) {
    params.amplitude[c] = rng.uniform(0.5, 1.5);
    params.offset[c] = rng.uniform(-0.3, 0.3);
    params.lag[c] = rng.uniform(0.0, 0.25);
  }
  return params;
}

std::vector<float> render_waveform(const WaveformParams& params, double noise, CounterRng& rng) {
  std::vector<float> frames(static_cast<std::size_t>(params.length * kWaveformChannels));
  const auto length = static_cast<double>(params.length);
  for (std::int64_t t = 0; t < params.length; ++t) {
    const auto time = static_cast<double>(t);
    const double stretch = params.kind == Waveform::chirp ? 1.0 + 0.75 * time / length : 1.0;
    for (std::size_t c = 0; c < kWaveformChannels; ++c) {
      const double cycles = params.phase + params.lag[c] + params.frequency * time * stretch;
      const double value = params.offset[c] + params.amplitude[c] * waveform_shape(params.kind, cycles) +
                           (noise > 0.0 ? noise * rng.normal() : 0.0);
      frames[static_cast<std::size_t>(t * kWaveformChannels) + c] = static_cast<float>(value);
    }
  }
  return frames;
}

}  // namespace gpurnn::train::tasks
