// The cpu backend's worker pool (src/cpu/worker_pool.h): every item exactly once at every thread
// count, errors carried back to the caller, nesting and concurrent callers run inline rather
// than oversubscribe, and a forked child gets a pool of its own.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "cpu/gemm_chunks.h"
#include "cpu/worker_pool.h"

namespace gpurnn {
namespace {

using cpu::parallel_for;

// Sets the calling thread's count for a scope.
struct ThreadsFor {
  explicit ThreadsFor(int n) { cpu::set_parallel_threads(n); }
  ~ThreadsFor() { cpu::set_parallel_threads(0); }
};

TEST(WorkerPool, RunsEveryItemExactlyOnceAtEveryThreadCount) {
  for (int threads = 1; threads <= 4; ++threads) {
    ThreadsFor scope(threads);
    for (std::int64_t count : {0, 1, 2, 7, 1000}) {
      std::vector<std::atomic<int>> runs(static_cast<std::size_t>(count));
      parallel_for(count, [&](std::int64_t i) { runs[static_cast<std::size_t>(i)].fetch_add(1); });
      for (std::int64_t i = 0; i < count; ++i) {
        ASSERT_EQ(runs[static_cast<std::size_t>(i)].load(), 1) << "threads " << threads << " count " << count << " item " << i;
      }
    }
  }
}

TEST(WorkerPool, UsesWorkersWhenAskedAndNoneOnOneThread) {
  {
    ThreadsFor scope(1);
    const cpu::PoolCounters before = cpu::pool_counters();
    parallel_for(64, [](std::int64_t) {});
    EXPECT_EQ(cpu::pool_counters().regions, before.regions);
  }
  ThreadsFor scope(2);
  const cpu::PoolCounters before = cpu::pool_counters();
  for (int r = 0; r < 50; ++r) parallel_for(64, [](std::int64_t) {});
  const cpu::PoolCounters after = cpu::pool_counters();
  EXPECT_EQ(after.regions - before.regions, 50);
  EXPECT_GE(after.workers, 1);
}

TEST(WorkerPool, AnItemsErrorReachesTheCallerAndThePoolStaysUsable) {
  ThreadsFor scope(3);
  EXPECT_THROW(parallel_for(100,
                            [](std::int64_t i) {
                              if (i == 37) throw std::runtime_error("item 37");
                            }),
               std::runtime_error);
  std::atomic<std::int64_t> sum{0};
  parallel_for(100, [&](std::int64_t i) { sum.fetch_add(i); });
  EXPECT_EQ(sum.load(), 4950);
}

TEST(WorkerPool, NestedLoopsRunInline) {
  ThreadsFor scope(4);
  std::vector<std::atomic<int>> cells(64);
  parallel_for(8, [&](std::int64_t outer) {
    parallel_for(8, [&](std::int64_t inner) { cells[static_cast<std::size_t>(outer * 8 + inner)].fetch_add(1); });
  });
  for (const auto& c : cells) EXPECT_EQ(c.load(), 1);
}

// Several threads calling at once (a server): each gets its own items done, whichever of them
// holds the pool; the others run alone instead of starting workers of their own.
TEST(WorkerPool, ConcurrentCallersEachGetTheirItems) {
  constexpr int kCallers = 4, kRounds = 200, kItems = 33;
  std::vector<std::thread> callers;
  std::atomic<int> wrong{0};
  for (int t = 0; t < kCallers; ++t) {
    callers.emplace_back([&, t] {
      cpu::set_parallel_threads(2);
      for (int r = 0; r < kRounds; ++r) {
        std::vector<int> out(kItems, 0);
        parallel_for(kItems, [&](std::int64_t i) { out[static_cast<std::size_t>(i)] += t + 1; });
        for (int v : out) wrong += v == t + 1 ? 0 : 1;
      }
    });
  }
  for (auto& c : callers) c.join();
  EXPECT_EQ(wrong.load(), 0);
}

// A worker that stalls (as one whose core another process took) holds up only the item it
// has: the caller claims every other item itself instead of waiting at a barrier for its share.
TEST(WorkerPool, AStalledWorkerHoldsUpOnlyItsOwnItem) {
  ThreadsFor scope(2);
  const std::thread::id caller = std::this_thread::get_id();
  for (int attempt = 0; attempt < 20; ++attempt) {
    std::atomic<int> by_caller{0}, by_worker{0};
    std::atomic<bool> stalled{false};
    parallel_for(200, [&](std::int64_t) {
      if (std::this_thread::get_id() == caller) {
        by_caller.fetch_add(1);
        // 20 us of work per item: time for a parked worker to wake and join.
        const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(20);
        while (std::chrono::steady_clock::now() < until) {
        }
        return;
      }
      by_worker.fetch_add(1);
      if (!stalled.exchange(true)) std::this_thread::sleep_for(std::chrono::milliseconds(30));
    });
    ASSERT_EQ(by_caller.load() + by_worker.load(), 200);
    if (by_worker.load() == 0) continue;  // the worker did not arrive in time: nothing to see
    // The worker ran its first item and slept through the rest of the region.
    EXPECT_GE(by_caller.load(), 195) << "the caller waited for the stalled worker's share";
    return;
  }
  GTEST_SKIP() << "the worker never joined a region in 20 attempts (a loaded machine)";
}

TEST(WorkerPool, AForkedChildGetsAPoolOfItsOwn) {
  ThreadsFor scope(2);
  parallel_for(16, [](std::int64_t) {});  // the parent's workers exist
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::atomic<int> sum{0};
    cpu::parallel_for(100, [&](std::int64_t i) { sum.fetch_add(static_cast<int>(i)); });
    _exit(sum.load() == 4950 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

// The pieces a product is cut into depend on its shape only and tile C exactly.
TEST(GemmChunks, TileTheResultExactly) {
  for (std::int64_t m : {1, 255, 256, 257, 800}) {
    for (std::int64_t n : {1, 300, 1024}) {
      std::vector<int> covered(static_cast<std::size_t>(m * n), 0);
      for (std::int64_t i = 0; i < cpu::gemm_chunk_count(m, n); ++i) {
        const cpu::GemmChunk c = cpu::gemm_chunk(m, n, i);
        ASSERT_GT(c.rows, 0);
        ASSERT_GT(c.cols, 0);
        for (std::int64_t r = c.row; r < c.row + c.rows; ++r) {
          for (std::int64_t j = c.col; j < c.col + c.cols; ++j) ++covered[static_cast<std::size_t>(r * n + j)];
        }
      }
      for (int v : covered) ASSERT_EQ(v, 1) << m << "x" << n;
    }
  }
}

}  // namespace
}  // namespace gpurnn
