#pragma once
// The tasks `gpurnn train` knows (the gpurnn_tasks library, linked by the gpurnn command and the
// tests, never by libgpurnn): their names, the defaults each trains with, and make_task.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gpurnn/train/task.h"

namespace gpurnn::train {

// What a task trains with unless flags say otherwise. Each task states its own, in its file,
// sized so that it visibly learns within about a minute or two on a 2-core CPU.
struct TaskDefaults {
  const char* cell;
  std::int64_t hidden, steps, warmup;
  double lr, clip;
  const char* attention = "general";  // output-sequence tasks
  std::int64_t beam = 1;
  const char* schedule = "cosine";
  int threads = 0;  // 0: every core the process may use (the cpu backend's worker pool)
  std::int64_t embedding = 0;  // --embedding: tokens' embedding (0: min(hidden, 64)), features' projection (0: none)
};

// One task: its name, its defaults and its constructor.
struct TaskEntry {
  const char* name;
  TaskDefaults defaults;
  std::unique_ptr<Task> (*make)(const TaskOptions&);
};

// Every task, in the order help lists them.
const std::vector<TaskEntry>& task_entries();
// The entry named `name`; Error(invalid_argument) naming 'task' and the known tasks otherwise.
const TaskEntry& find_task(const std::string& name);

// The task named `name` (charlm, timeseries, adding, copy, classify, video, translate, sort, convex-hull,
// tsp; the last four are SequenceTasks); Error(invalid_argument) naming 'task' and the known tasks
// for any other name, and Error(io_error / invalid_argument) for unreadable or unusable data,
// naming the file and what was wrong.
std::unique_ptr<Task> make_task(const std::string& name, const TaskOptions& options);
std::vector<std::string> task_names();

}  // namespace gpurnn::train
