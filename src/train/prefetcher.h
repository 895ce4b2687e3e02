#pragma once
// Prepares batches on a host thread ahead of the training loop: batch(first), batch(first+1), ...
// at most `depth` ahead. A BatchSource is a pure function of the index, so the order and the
// contents do not depend on timing.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "gpurnn/train/batch.h"

namespace gpurnn::train {

class Prefetcher {
 public:
  Prefetcher(const BatchSource& source, std::int64_t first_index, std::size_t depth = 2);
  ~Prefetcher();  // stops the thread (a batch being made is finished and dropped)
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // The next batch in index order; waits for it. An exception thrown by the source is rethrown
  // here, once, and the prefetcher stops.
  Batch next();

 private:
  void produce();

  const BatchSource& source_;
  std::int64_t next_index_;
  std::size_t depth_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Batch> ready_;
  std::exception_ptr error_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace gpurnn::train
