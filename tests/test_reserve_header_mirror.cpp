// engine::ReserveHeaderMirror: the host copies of reserve headers that let a CUDA backend check a
// reserve in backward without synchronising its stream (issue 20, item 6). Host logic only, so
// it is tested here; the CUDA backend's use of it runs in the GPU sweep.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "engine/reserve_header_mirror.h"

namespace gpurnn::engine {
namespace {

ReserveHeader header(std::uint64_t seed, std::int64_t seq_len) {
  return {ReserveHeader::kMagic, ReserveHeader::forward_done, seed, seq_len, 3, 0x1234};
}

TEST(ReserveHeaderMirror, FindsWhatWasRecordedAtThatAddressOnly) {
  ReserveHeaderMirror mirror;
  char a = 0, b = 0;
  EXPECT_FALSE(mirror.find(&a));
  mirror.record(&a, header(7, 5));
  ASSERT_TRUE(mirror.find(&a));
  EXPECT_EQ(mirror.find(&a)->dropout_seed, 7u);
  EXPECT_FALSE(mirror.find(&b));
  // A later write to the same reserve (backward_data's stage) replaces the copy.
  ReserveHeader done = header(7, 5);
  done.stage = ReserveHeader::backward_data_done;
  mirror.record(&a, done);
  EXPECT_EQ(mirror.find(&a)->stage, ReserveHeader::backward_data_done);
  EXPECT_EQ(mirror.size(), 1u);
}

TEST(ReserveHeaderMirror, ForgetsTheOldestPastItsCapacity) {
  ReserveHeaderMirror mirror;
  std::vector<char> reserves(ReserveHeaderMirror::kCapacity + 5);
  for (std::size_t i = 0; i < reserves.size(); ++i) mirror.record(&reserves[i], header(i, 4));
  EXPECT_EQ(mirror.size(), ReserveHeaderMirror::kCapacity);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_FALSE(mirror.find(&reserves[i])) << i;
  for (std::size_t i = 5; i < reserves.size(); ++i) {
    ASSERT_TRUE(mirror.find(&reserves[i])) << i;
    EXPECT_EQ(mirror.find(&reserves[i])->dropout_seed, i);
  }
  // Re-recording an old entry makes it the newest: it survives the next evictions.
  mirror.record(&reserves[5], header(99, 4));
  char extra = 0;
  mirror.record(&extra, header(100, 4));
  EXPECT_TRUE(mirror.find(&reserves[5]));
  EXPECT_FALSE(mirror.find(&reserves[6]));
}

TEST(ReserveHeaderMirror, ThreadsRecordingTheirOwnReservesSeeTheirOwn) {
  ReserveHeaderMirror mirror;
  std::vector<char> reserves(4);
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        mirror.record(&reserves[t], header(static_cast<std::uint64_t>(t * 10000 + i), 4));
        const auto got = mirror.find(&reserves[t]);
        if (!got || got->dropout_seed != static_cast<std::uint64_t>(t * 10000 + i)) ++wrong[t];
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(wrong[t], 0) << t;
}

}  // namespace
}  // namespace gpurnn::engine
