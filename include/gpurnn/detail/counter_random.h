#pragma once
// Counter-based random numbers: a value is a pure function of (seed, stream, index), so the
// CPU path and a CUDA kernel draw the same dropout mask and the same initial weights, in any
// order and on any number of threads. The mixer is SplitMix64's finaliser.

#include <cstdint>

#include "gpurnn/detail/host_device.h"

namespace gpurnn::detail {

GPURNN_HOST_DEVICE std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// 64 random bits for element `index` of stream `stream`.
GPURNN_HOST_DEVICE std::uint64_t random_bits(std::uint64_t seed, std::uint64_t stream,
                                             std::uint64_t index) {
  return mix64(mix64(seed ^ mix64(stream + 0x9e3779b97f4a7c15ULL)) + index);
}

// Uniform in [0, 1) with 53 random bits.
GPURNN_HOST_DEVICE double random_uniform(std::uint64_t seed, std::uint64_t stream,
                                         std::uint64_t index) {
  return static_cast<double>(random_bits(seed, stream, index) >> 11) * (1.0 / 9007199254740992.0);
}

// Inverted dropout: 0 with probability p, else 1/(1-p). p must be in [0, 1).
GPURNN_HOST_DEVICE double dropout_scale(std::uint64_t seed, std::uint64_t stream,
                                        std::uint64_t index, double p) {
  return random_uniform(seed, stream, index) < p ? 0.0 : 1.0 / (1.0 - p);
}

}  // namespace gpurnn::detail
