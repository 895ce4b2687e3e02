#pragma once
// What the tasks share: the Task plumbing over two owned sources, number formatting for
// reports, the resolution of default options, and a loop over a source's batches.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gpurnn/train/task.h"

namespace gpurnn::train::tasks {

using Report = std::vector<std::pair<std::string, std::string>>;

// A task whose sources and description are set by its constructor; subclasses add report()
// (and, over SequenceTask, its decoding hooks). `Interface`: Task or SequenceTask.
template <class Interface>
class TaskWithSources : public Interface {
 public:
  std::string name() const override { return name_; }
  std::string describe() const override { return description_; }
  ModelInterface interface() const override { return interface_; }
  const BatchSource& train_data() const override { return *train_; }
  const BatchSource& eval_data() const override { return *eval_; }
  Report settings() const override { return settings_; }
  // The record the constructor set, or for generated data the built-in source and its description.
  Report data_record() const override {
    if (!record_.empty()) return record_;
    return {{"source", "built-in"}, {"generator", description_}};
  }

 protected:
  explicit TaskWithSources(std::string name) : name_(std::move(name)) {}

  std::string name_;
  std::string description_;
  // The resolved options a checkpoint must match to resume (seq_len, batch, ...): Task::settings().
  Report settings_;
  // Task::data_record(), when the task reads a file or one fixed stream (charlm, timeseries).
  Report record_;
  ModelInterface interface_;
  std::unique_ptr<BatchSource> train_;
  std::unique_ptr<BatchSource> eval_;
};
using BasicTask = TaskWithSources<Task>;

// The largest data file a task reads (`--text` for charlm, `--csv` for timeseries): 1 GiB. The
// task holds what it parsed in memory (charlm about 2x the file's bytes, timeseries about 1.5x),
// so a larger file is refused up front rather than exhausting memory part way.
constexpr std::uint64_t kMaxDataFileBytes = std::uint64_t{1} << 30;
// Error(invalid_argument) "<where>: argument '<arg>' <path> is N bytes, more than the limit of
// 1073741824 bytes (1 GiB) ..." when `size` exceeds kMaxDataFileBytes.
void check_data_file_size(std::uint64_t size, const char* where, const char* arg, const std::string& path);

// "%.4g": 0.1667, 2.31, 1.234e+05.
std::string format_number(double value);
// 522170 -> "522,170".
std::string format_count(std::int64_t value);

// `value` when set (> 0), else `fallback`; Error(invalid_argument) naming `where` and `arg` for
// a negative value.
std::int64_t option_or(std::int64_t value, std::int64_t fallback, const char* where, const char* arg);

// Lanes (rows) for a truncated-BPTT stream of `positions` input positions cut in chunks of
// `steps`: `batch` when set, else `default_batch` or fewer so that every lane holds at least one
// full chunk. Error(invalid_argument) naming `where`, 'seq_len' and 'batch' when even one lane
// (or `batch` lanes) would be shorter than seq_len; `data` says what the positions are.
std::int64_t stream_lanes(std::int64_t positions, std::int64_t steps, std::int64_t batch,
                          std::int64_t default_batch, const char* where, const std::string& data);
// Lanes for the evaluation stream: as many as hold 8 chunks each, at least 1, at most `lanes`.
std::int64_t eval_stream_lanes(std::int64_t positions, std::int64_t steps, std::int64_t lanes);

// Calls fn on batch 0 .. batches_per_epoch()-1 (what an evaluation pass reads).
void for_each_batch(const BatchSource& source, const std::function<void(const Batch&)>& fn);

}  // namespace gpurnn::train::tasks
