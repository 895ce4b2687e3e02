#include "cli/task_defaults.h"

#include <algorithm>
#include <cstdio>

#include "gpurnn/error.h"
#include "tasks/task_registry.h"

namespace gpurnn::cli {
namespace {

const std::vector<std::string> kOutputSequenceTasks = {"translate", "sort", "convex-hull", "tsp"};

// The flags only some tasks read (every other flag applies to every task).
struct TaskFlag {
  const char* flag;
  std::vector<std::string> tasks;
};
const std::vector<TaskFlag>& task_flags() {
  static const std::vector<TaskFlag> flags = {
      {"--text", {"charlm"}},
      {"--temperature", {"charlm"}},
      {"--sample", {"charlm"}},
      {"--csv", {"timeseries"}},
      {"--video", {"video"}},
      {"--lengths", {"video"}},
      {"--labels", {"video"}},
      {"--column", {"timeseries"}},
      {"--horizon", {"timeseries"}},
      {"--fill", {"timeseries"}},
      {"--difference", {"timeseries"}},
      {"--ar-skip", {"timeseries"}},
      {"--validate-every", {"timeseries"}},
      {"--seq-len", {"charlm", "timeseries", "adding", "copy", "classify", "video"}},
      {"--points", {"sort", "convex-hull", "tsp"}},
      {"--reverse-source", {"translate"}},
      {"--attention", kOutputSequenceTasks},
      {"--bidirectional", kOutputSequenceTasks},
      {"--teacher-forcing", kOutputSequenceTasks},
      {"--teacher-forcing-final", kOutputSequenceTasks},
      {"--beam", kOutputSequenceTasks},
      {"--length-penalty", kOutputSequenceTasks},
      {"--eval-examples", kOutputSequenceTasks},
  };
  return flags;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

void check_task_flags(const std::vector<std::string>& given, const std::string& task) {
  for (const TaskFlag& f : task_flags()) {
    if (std::find(given.begin(), given.end(), f.flag) == given.end()) continue;
    if (std::find(f.tasks.begin(), f.tasks.end(), task) != f.tasks.end()) continue;
    throw Error(ErrorCode::invalid_argument, std::string(f.flag) + " does not apply to task " + task +
                                                 " (it is read by " + joined(f.tasks) + ")");
  }
}

std::string task_defaults_help() {
  std::string out =
      "Task defaults (each flag overrides its column; threads: 'every' = every core):\n"
      "  task         cell  hidden  steps  warm-up  lr      schedule  threads\n";
  for (const train::TaskEntry& entry : train::task_entries()) {
    const train::TaskDefaults& d = entry.defaults;
    char line[160];
    std::snprintf(line, sizeof line, "  %-12s %-5s %6lld %6lld %8lld  %-7.3g %-9s %s\n", entry.name, d.cell,
                  static_cast<long long>(d.hidden), static_cast<long long>(d.steps),
                  static_cast<long long>(d.warmup), d.lr, d.schedule,
                  d.threads == 0 ? "every" : std::to_string(d.threads).c_str());
    out += line;
  }
  out += "The warm-up is at most a fifth of --steps. Pointer tasks (sort, convex-hull, tsp) use additive "
         "attention, the other output-sequence tasks general; beam 1 (greedy) everywhere.\n";
  return out;
}

}  // namespace gpurnn::cli
