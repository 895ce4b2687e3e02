#pragma once
// Thread-to-data arithmetic of the element-wise and step kernels, as host/device functions so
// CPU tests can check it: every element owned by exactly one thread, no thread out of range.

#include <cstdint>

#include "gpurnn/detail/host_device.h"

namespace gpurnn::kernels {

constexpr int kThreadsPerBlock = 256;

// A 1-D launch covering `count` elements: blocks of kThreadsPerBlock threads.
struct LinearLaunch {
  std::int64_t blocks;
  int threads;
};

inline LinearLaunch linear_launch(std::int64_t count) {
  const std::int64_t blocks = count <= 0 ? 1 : (count + kThreadsPerBlock - 1) / kThreadsPerBlock;
  return {blocks, kThreadsPerBlock};
}

// Thread `linear` of a launch over a [rows, cols] grid owns element (row, col), col fastest
// (so a warp reads 32 consecutive columns of one row). False for the tail threads past the end.
GPURNN_HOST_DEVICE bool row_and_col(std::int64_t linear, std::int64_t rows, std::int64_t cols,
                                    std::int64_t* row, std::int64_t* col) {
  if (linear >= rows * cols) return false;
  *row = linear / cols;
  *col = linear % cols;
  return true;
}

// Element `linear` of dst [b, a, f] in a transpose of src [a, b, f]: its index in src.
GPURNN_HOST_DEVICE std::int64_t transposed_source(std::int64_t linear, std::int64_t a,
                                                  std::int64_t b, std::int64_t f) {
  const std::int64_t c = linear % f;
  const std::int64_t r = linear / f;  // row of dst: j * a + i
  const std::int64_t i = r % a;
  const std::int64_t j = r / a;
  return (i * b + j) * f + c;
}

}  // namespace gpurnn::kernels
