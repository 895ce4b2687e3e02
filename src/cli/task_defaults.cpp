#include "cli/task_defaults.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "gpurnn/error.h"

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
      {"--column", {"timeseries"}},
      {"--horizon", {"timeseries"}},
      {"--seq-len", {"charlm", "timeseries", "adding", "copy", "classify"}},
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

const std::vector<std::string>& train_task_names() {
  static const std::vector<std::string> names = {"charlm", "timeseries", "adding", "copy", "classify",
                                                 "translate", "sort", "convex-hull", "tsp"};
  return names;
}

TaskDefaults defaults_for(const std::string& task) {
  // copy: a GRU leaves the chance plateau within a few hundred steps where an LSTM of the same
  // size needs thousands (measured: 0.99 vs 0.71 accuracy after 1,500 steps).
  // Threads (the last field): the small models run on one. With the cpu backend's one OpenMP
  // pool, two threads are no slower on 2 idle cores (adding 100 steps 0.43 vs 0.53 s, classify
  // 200 steps 0.53 vs 0.60 s, convex-hull 150 steps 3.8 vs 4.2 s, sort 1.43 vs 1.37 s), but with
  // one core busy with other work 100 adding steps took 8.8-9.4 s on two against 0.55 s on one;
  // charlm (hidden 256) gains most from two and takes the cores idle at start.
  static const std::map<std::string, TaskDefaults> table = {
      {"charlm", {"lstm", 256, 800, 30, 4e-3, 1.0}},
      {"timeseries", {"lstm", 64, 1000, 30, 1e-2, 1.0, "general", 1, "cosine", 1}},
      {"adding", {"lstm", 64, 1500, 50, 1e-2, 1.0, "general", 1, "cosine", 1}},
      {"copy", {"gru", 128, 1200, 50, 1e-2, 1.0, "general", 1, "cosine", 1}},
      {"classify", {"lstm", 64, 1000, 20, 1e-2, 1.0, "general", 1, "cosine", 1}},
      {"translate", {"lstm", 128, 600, 30, 3e-3, 1.0, "general", 1, "cosine", 1}},
      {"sort", {"lstm", 64, 1000, 30, 3e-3, 1.0, "additive", 1, "cosine", 1}},
      // Pointer nets on points sit at the input-order solution for the first ~1,000 steps (tsp n=5:
      // loss 0.515 until step ~800 at a constant 3e-3); a cosine decay over 1,500 steps ends the
      // run before they leave it, so these train at a constant rate.
      {"convex-hull", {"lstm", 128, 2500, 0, 3e-3, 1.0, "additive", 1, "constant", 1}},
      {"tsp", {"lstm", 128, 2500, 0, 3e-3, 1.0, "additive", 1, "constant", 1}},
  };
  const auto it = table.find(task);
  return it != table.end() ? it->second : TaskDefaults{"lstm", 128, 1000, 50, 3e-3, 1.0};
}

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
      "Task defaults (each flag overrides its column; threads: 'idle' = the cores idle at start):\n"
      "  task         cell  hidden  steps  warm-up  lr      schedule  threads\n";
  for (const std::string& task : train_task_names()) {
    const TaskDefaults d = defaults_for(task);
    char line[160];
    std::snprintf(line, sizeof line, "  %-12s %-5s %6lld %6lld %8lld  %-7.3g %-9s %s\n", task.c_str(), d.cell,
                  static_cast<long long>(d.hidden), static_cast<long long>(d.steps),
                  static_cast<long long>(d.warmup), d.lr, d.schedule,
                  d.threads == kIdleCores ? "idle" : std::to_string(d.threads).c_str());
    out += line;
  }
  out += "The warm-up is at most a fifth of --steps. Pointer tasks (sort, convex-hull, tsp) use additive "
         "attention, the other output-sequence tasks general; beam 1 (greedy) everywhere.\n";
  return out;
}

}  // namespace gpurnn::cli
