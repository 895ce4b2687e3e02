#include "train/prefetcher.h"

#include <utility>

#include "gpurnn/error.h"

namespace gpurnn::train {

Prefetcher::Prefetcher(const BatchSource& source, std::int64_t first_index, std::size_t depth)
    : source_(source), next_index_(first_index), depth_(depth) {
  check_argument(first_index >= 0, "Prefetcher", "first_index", "must be >= 0, got " + std::to_string(first_index));
  check_argument(depth >= 1, "Prefetcher", "depth", "must be >= 1");
  thread_ = std::thread([this] { produce(); });
}

Prefetcher::~Prefetcher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void Prefetcher::produce() {
  for (;;) {
    std::int64_t index;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return stopping_ || ready_.size() < depth_; });
      if (stopping_) return;
      index = next_index_++;
    }
    try {
      Batch batch = source_.batch(index);
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.push_back(std::move(batch));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
      stopping_ = true;
    }
    changed_.notify_all();
  }
}

Batch Prefetcher::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return !ready_.empty() || error_ || stopping_; });
  if (ready_.empty()) {
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    throw Error(ErrorCode::invalid_argument, "Prefetcher::next: the prefetcher has stopped after an error");
  }
  Batch batch = std::move(ready_.front());
  ready_.pop_front();
  lock.unlock();
  changed_.notify_all();
  return batch;
}

}  // namespace gpurnn::train
