#pragma once
// Helpers for the data-source tests: exact batch comparison and typed element access.

#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "gpurnn/train/batch.h"
#include "gpurnn/train/task.h"

namespace gpurnn::testing {

inline bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.data(), b.data(), a.bytes()) == 0;
}

inline bool same_batch(const train::Batch& a, const train::Batch& b) {
  return same_bytes(a.inputs, b.inputs) && same_bytes(a.targets, b.targets) &&
         same_bytes(a.lengths, b.lengths) && a.carry_state == b.carry_state;
}

inline std::int32_t length_of(const train::Batch& batch, std::int64_t row) {
  return batch.lengths.data_as<std::int32_t>()[row];
}

// batch(i) for i in [0, count) built serially and by four threads at once must agree, and a
// second serial call must agree with the first.
inline void expect_deterministic(const train::BatchSource& source, std::int64_t count) {
  std::vector<train::Batch> serial;
  for (std::int64_t i = 0; i < count; ++i) serial.push_back(source.batch(i));
  std::vector<std::vector<train::Batch>> threaded(4);
  std::vector<std::thread> threads;
  for (auto& out : threaded) {
    threads.emplace_back([&source, &out, count] {
      for (std::int64_t i = count - 1; i >= 0; --i) out.push_back(source.batch(i));
    });
  }
  for (auto& thread : threads) thread.join();
  for (std::int64_t i = 0; i < count; ++i) {
    EXPECT_TRUE(same_batch(serial[static_cast<std::size_t>(i)], source.batch(i))) << "batch " << i;
    for (const auto& out : threaded) {
      EXPECT_TRUE(same_batch(serial[static_cast<std::size_t>(i)], out[static_cast<std::size_t>(count - 1 - i)]))
          << "batch " << i << " built on another thread";
    }
  }
}

// The value of `key` in a task report (fails the test when absent).
inline std::string report_value(const train::Task& task, const train::EvalResult& eval,
                                const std::string& key) {
  for (const auto& [name, value] : task.report(eval)) {
    if (name == key) return value;
  }
  ADD_FAILURE() << "report of " << task.name() << " has no '" << key << "'";
  return "";
}

}  // namespace gpurnn::testing
