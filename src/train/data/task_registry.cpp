// make_task and task_names: the table of tasks.
#include <string>

#include "gpurnn/error.h"
#include "train/data/tasks.h"

namespace gpurnn::train {
namespace {

struct TaskEntry {
  const char* name;
  std::unique_ptr<Task> (*make)(const TaskOptions&);
};
constexpr TaskEntry kTasks[] = {
    {"charlm", data::make_charlm_task}, {"timeseries", data::make_timeseries_task},
    {"adding", data::make_adding_task}, {"copy", data::make_copy_task},
    {"classify", data::make_classify_task}, {"translate", data::make_translate_task},
    {"sort", data::make_sort_task},         {"convex-hull", data::make_hull_task},
    {"tsp", data::make_tsp_task},
};

}  // namespace

std::vector<std::string> task_names() {
  std::vector<std::string> names;
  for (const TaskEntry& entry : kTasks) names.emplace_back(entry.name);
  return names;
}

std::unique_ptr<Task> make_task(const std::string& name, const TaskOptions& options) {
  std::string known;
  for (const TaskEntry& entry : kTasks) {
    if (name == entry.name) return entry.make(options);
    known += known.empty() ? entry.name : std::string(", ") + entry.name;
  }
  throw Error(ErrorCode::invalid_argument,
              "make_task: argument 'task' is '" + name + "', expected one of: " + known);
}

}  // namespace gpurnn::train
