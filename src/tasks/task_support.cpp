#include "tasks/task_support.h"

#include <algorithm>
#include <cstdio>

#include "gpurnn/error.h"

namespace gpurnn::train::tasks {

std::string format_number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

std::string format_count(std::int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  for (std::size_t i = digits.size(); i > 3; i -= 3) digits.insert(i - 3, ",");
  return value < 0 ? "-" + digits : digits;
}

void check_data_file_size(std::uint64_t size, const char* where, const char* arg, const std::string& path) {
  check_argument(size <= kMaxDataFileBytes, where, arg,
                 "'" + path + "' is " + std::to_string(size) + " bytes, more than the limit of " +
                     std::to_string(kMaxDataFileBytes) + " bytes (1 GiB) for a training data file");
}

std::int64_t option_or(std::int64_t value, std::int64_t fallback, const char* where, const char* arg) {
  check_argument(value >= 0, where, arg, "must be positive (0 for the default), got " + std::to_string(value));
  return value > 0 ? value : fallback;
}

std::int64_t stream_lanes(std::int64_t positions, std::int64_t steps, std::int64_t batch,
                          std::int64_t default_batch, const char* where, const std::string& data) {
  check_argument(steps <= positions, where, "seq_len",
                 std::to_string(steps) + " is larger than the data: " + data + " has " +
                     std::to_string(positions) + " input positions");
  if (batch == 0) return std::min(default_batch, positions / steps);
  check_argument(batch * steps <= positions, where, "batch",
                 std::to_string(batch) + " lanes of seq_len " + std::to_string(steps) + " need " +
                     std::to_string(batch * steps) + " input positions; " + data + " has " +
                     std::to_string(positions) + " (lower batch or seq_len)");
  return batch;
}

std::int64_t eval_stream_lanes(std::int64_t positions, std::int64_t steps, std::int64_t lanes) {
  // At least kChunksPerLane chunks per lane: every lane starts from a zero state, so its first
  // steps are predicted without context; long lanes keep that warm-up a small share of the score.
  constexpr std::int64_t kChunksPerLane = 8;
  return std::max<std::int64_t>(1, std::min(lanes, positions / (steps * kChunksPerLane)));
}

void for_each_batch(const BatchSource& source, const std::function<void(const Batch&)>& fn) {
  for (std::int64_t i = 0; i < source.batches_per_epoch(); ++i) fn(source.batch(i));
}

}  // namespace gpurnn::train::tasks
