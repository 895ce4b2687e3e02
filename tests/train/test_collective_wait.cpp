// The NCCL communicator's wait for a collective (src/cuda/nccl/collective_wait.h), over a fake
// communicator: a peer that dies while the others wait aborts the job instead of hanging it.
// Host code only, so it runs in every build; the NCCL communicator that uses it is compiled
// here and runs only on a GPU machine.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cuda/nccl/collective_wait.h"
#include "test_support.h"

namespace gpurnn::testing {
namespace {

// What Communicator::abort does in the test: records the message and leaves the wait (the real
// one ends the process).
struct Aborted {
  std::string message;
};

// A communicator whose collective completes after `done_after` polls (never when negative) and
// whose peer fails after `fail_after` polls (never when negative).
struct FakeCommunicator {
  int done_after = -1;
  int fail_after = -1;
  int done_polls = 0;
  int error_polls = 0;
  std::vector<std::string> aborts;

  train::CollectiveWait wait() {
    train::CollectiveWait w;
    w.done = [this] { return done_after >= 0 && done_polls++ >= done_after; };
    w.async_error = [this] {
      return fail_after >= 0 && error_polls++ >= fail_after ? std::string("remote process exited or there was a network error")
                                                            : std::string();
    };
    w.abort = [this](const std::string& message) {
      aborts.push_back(message);
      throw Aborted{message};
    };
    w.poll_interval = std::chrono::microseconds(1);
    return w;
  }
};

TEST(CollectiveWait, ReturnsWhenTheCollectiveCompletes) {
  FakeCommunicator comm;
  comm.done_after = 3;
  train::wait_for_collective(comm.wait(), "ncclAllReduce");
  EXPECT_EQ(comm.done_polls, 4);
  EXPECT_TRUE(comm.aborts.empty());
}

// The peer dies: the collective never completes, and the communicator says so asynchronously.
TEST(CollectiveWait, AbortsWhenAPeerFailsWhileWaiting) {
  FakeCommunicator comm;
  comm.fail_after = 5;
  try {
    train::wait_for_collective(comm.wait(), "ncclAllReduce");
    FAIL() << "the wait returned although the collective never completed";
  } catch (const Aborted& a) {
    EXPECT_EQ(a.message, "ncclAllReduce failed: remote process exited or there was a network error");
  }
  EXPECT_EQ(comm.aborts.size(), 1u);
  EXPECT_EQ(comm.error_polls, 6);
}

// An error that ended the collective early (its stream reads as done) is still an error.
TEST(CollectiveWait, AbortsWhenTheWorkEndedWithAnError) {
  FakeCommunicator comm;
  comm.done_after = 0;
  comm.fail_after = 0;
  EXPECT_THROW(train::wait_for_collective(comm.wait(), "ncclBroadcast"), Aborted);
  EXPECT_EQ(comm.aborts.size(), 1u);
}

// An abort that returns (it should end the job) still does not let the wait succeed.
TEST(CollectiveWait, AnAbortThatReturnsIsAnError) {
  FakeCommunicator comm;
  comm.fail_after = 0;
  train::CollectiveWait w = comm.wait();
  w.abort = [&](const std::string& message) { comm.aborts.push_back(message); };
  expect_error([&] { train::wait_for_collective(w, "ncclAllReduce"); }, ErrorCode::backend_error,
               {"ncclAllReduce failed", "network error"});
  EXPECT_EQ(comm.aborts.size(), 1u);
}

}  // namespace
}  // namespace gpurnn::testing
