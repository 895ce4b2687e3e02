#pragma once
// What each task of `gpurnn train` trains with unless flags say otherwise, and which of the
// task-specific flags it reads.

#include <cstdint>
#include <string>
#include <vector>

namespace gpurnn::cli {

// A task's thread default that means: the cores other work leaves idle when the run starts
// (idle_cores.h).
constexpr int kIdleCores = -1;

// Sized so that each task visibly learns within about a minute or two on a 2-core CPU.
struct TaskDefaults {
  const char* cell;
  std::int64_t hidden, steps, warmup;
  double lr, clip;
  const char* attention = "general";  // output-sequence tasks
  std::int64_t beam = 1;
  const char* schedule = "cosine";
  int threads = kIdleCores;  // or a count
};

// The task names `gpurnn train` knows, in the order help lists them.
const std::vector<std::string>& train_task_names();
TaskDefaults defaults_for(const std::string& task);

// Error(invalid_argument) naming the first flag of `given` (option names as CLI11 reports
// them: "--csv") that `task` does not read, and the tasks that do.
void check_task_flags(const std::vector<std::string>& given, const std::string& task);

// The per-task defaults as a table for `gpurnn train --help`.
std::string task_defaults_help();

}  // namespace gpurnn::cli
