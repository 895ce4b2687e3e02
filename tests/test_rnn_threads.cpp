// The thread-safety rules of RNN (rnn.h): inference is shared by any number of threads with
// bit-exact results; training is one thread's at a time, and every other use is an error, never
// a wrong gradient or a corrupted heap (issue 22: 25-34 of 50 calls returned wrong gradients).
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <string>
#include <future>
#include <thread>
#include <vector>

#include "gpurnn/gpurnn.h"
#include "test_support.h"

namespace gpurnn {
namespace {

using testing::random_tensor;

RNNDescriptor small_lstm() {
  RNNDescriptor d;
  d.cell = CellKind::lstm;
  d.input_size = 8;
  d.hidden_size = 16;
  d.num_layers = 2;
  return d;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && std::memcmp(a.data(), b.data(), a.bytes()) == 0;
}

// dx and every weight gradient of one training pass, as one reference to compare against.
struct Pass {
  Tensor dx, dweights;
};
Pass train_once(RNN& rnn, const Tensor& x, const Tensor& dy) {
  rnn.forward_train(x);
  RNNGradients g = rnn.backward(dy);
  return {g.dx, g.dweights.flat()};
}

TEST(RnnThreads, InferenceSharedByThreadsIsBitExact) {
  RNN rnn(small_lstm(), DType::f32, "cpu", 3);
  constexpr int kThreads = 4, kCalls = 20;
  std::vector<Tensor> inputs, expected;
  for (int t = 0; t < kThreads; ++t) {
    inputs.push_back(random_tensor({12, 3, 8}, DType::f32, 11, static_cast<std::uint64_t>(t)));
    expected.push_back(rnn.forward(inputs.back()).y);
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int call = 0; call < kCalls; ++call) {
        if (!same_bytes(rnn.forward(inputs[t]).y, expected[t])) ++mismatches;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// Two threads train one RNN on different inputs as fast as they can. Each pass either returns
// exactly its own gradients or throws the documented error; nothing else.
TEST(RnnThreads, ConcurrentTrainingIsRefusedNotRaced) {
  RNN rnn(small_lstm(), DType::f32, "cpu", 3);
  constexpr int kThreads = 2, kPasses = 50;
  std::vector<Tensor> xs, dys;
  std::vector<Pass> expected;
  for (int t = 0; t < kThreads; ++t) {
    xs.push_back(random_tensor({12, 3, 8}, DType::f32, 5, static_cast<std::uint64_t>(t)));
    dys.push_back(random_tensor({12, 3, 16}, DType::f32, 6, static_cast<std::uint64_t>(t)));
    expected.push_back(train_once(rnn, xs[t], dys[t]));
  }
  std::atomic<int> wrong{0}, refused{0}, other{0}, done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int pass = 0; pass < kPasses; ++pass) {
        try {
          const Pass got = train_once(rnn, xs[t], dys[t]);
          ++done;
          if (!same_bytes(got.dx, expected[t].dx) || !same_bytes(got.dweights, expected[t].dweights)) ++wrong;
        } catch (const Error& e) {
          const std::string what = e.what();
          if (e.code() == ErrorCode::invalid_argument && what.find("one thread at a time") != std::string::npos) {
            ++refused;
          } else {
            ++other;
          }
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0) << "passes that returned another pass's gradients";
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(done.load() + refused.load(), kThreads * kPasses);
  EXPECT_GT(done.load(), 0);
}

// The interleaving that needs no overlap: A's forward_train, then B's, then A's backward would
// return gradients of B's pass. It is refused; B's own backward still works.
TEST(RnnThreads, BackwardOfAnotherThreadsForwardIsRefused) {
  RNN rnn(small_lstm(), DType::f32, "cpu", 3);
  const Tensor xa = random_tensor({6, 2, 8}, DType::f32, 1, 0), xb = random_tensor({6, 2, 8}, DType::f32, 1, 1);
  const Tensor dy = random_tensor({6, 2, 16}, DType::f32, 2, 0);
  const Pass b_alone = train_once(rnn, xb, dy);
  rnn.forward_train(xa);  // this thread: A
  // Thread B trains, waits while this thread's backward is refused, then runs its own backward.
  // (One thread throughout: a later thread may or may not get B's id back from the system.)
  std::promise<void> b_forwarded, a_refused;
  Pass from_b;
  std::string b_error;
  std::thread b([&] {
    bool forwarded = false;
    try {
      rnn.forward_train(xb);
      forwarded = true;
      b_forwarded.set_value();
      a_refused.get_future().wait();
      RNNGradients g = rnn.backward(dy);
      from_b = {g.dx, g.dweights.flat()};
    } catch (const std::exception& e) {
      b_error = e.what();
      if (!forwarded) b_forwarded.set_value();  // never leave this thread waiting
    }
  });
  b_forwarded.get_future().wait();  // b now waits for a_refused, so b_error is stable here
  if (b_error.empty()) {
    testing::expect_error([&] { rnn.backward(dy); }, ErrorCode::invalid_argument,
                          {"RNN::backward", "another thread", "one thread at a time"});
  }
  a_refused.set_value();
  b.join();
  ASSERT_EQ(b_error, "");
  EXPECT_TRUE(same_bytes(from_b.dx, b_alone.dx));
  EXPECT_TRUE(same_bytes(from_b.dweights, b_alone.dweights));
  // The thread that trains next owns the pass again.
  EXPECT_NO_THROW(train_once(rnn, xa, dy));
}

}  // namespace
}  // namespace gpurnn
