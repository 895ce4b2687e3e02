// The CUDA kernels' thread-to-data arithmetic (kernels/launch_shape.h), checked on the CPU by
// enumerating every thread of each launch: every element owned exactly once, none out of range.

#include <gtest/gtest.h>

#include <vector>

#include "launch_shape.h"

namespace gpurnn::kernels {
namespace {

TEST(LaunchShape, RowAndColumnCoverEveryElementOnce) {
  for (std::int64_t rows : {1, 3, 7, 128}) {
    for (std::int64_t cols : {1, 5, 65, 256, 1000}) {
      const LinearLaunch l = linear_launch(rows * cols);
      ASSERT_EQ(l.threads, kThreadsPerBlock);
      ASSERT_GE(l.blocks * l.threads, rows * cols);
      ASSERT_LT((l.blocks - 1) * l.threads, rows * cols);  // no block entirely idle
      std::vector<int> owned(static_cast<std::size_t>(rows * cols), 0);
      for (std::int64_t thread = 0; thread < l.blocks * l.threads; ++thread) {
        std::int64_t r = -1, c = -1;
        if (!row_and_col(thread, rows, cols, &r, &c)) continue;
        ASSERT_TRUE(r >= 0 && r < rows && c >= 0 && c < cols) << thread;
        ++owned[static_cast<std::size_t>(r * cols + c)];
      }
      for (int n : owned) ASSERT_EQ(n, 1) << rows << "x" << cols;
    }
  }
}

TEST(LaunchShape, TransposeReadsEverySourceElementOnce) {
  for (std::int64_t a : {1, 4, 9}) {
    for (std::int64_t b : {1, 3, 8}) {
      for (std::int64_t f : {1, 5}) {
        std::vector<int> read(static_cast<std::size_t>(a * b * f), 0);
        for (std::int64_t e = 0; e < a * b * f; ++e) {
          const std::int64_t src = transposed_source(e, a, b, f);
          ASSERT_TRUE(src >= 0 && src < a * b * f);
          ++read[static_cast<std::size_t>(src)];
          // dst [b, a, f] element (j, i, c) comes from src [a, b, f] element (i, j, c).
          const std::int64_t c = e % f, i = (e / f) % a, j = e / f / a;
          ASSERT_EQ(src, (i * b + j) * f + c);
        }
        for (int n : read) ASSERT_EQ(n, 1);
      }
    }
  }
}

TEST(LaunchShape, EmptyLaunchStillHasOneBlock) {
  EXPECT_EQ(linear_launch(0).blocks, 1);
}

}  // namespace
}  // namespace gpurnn::kernels
