// make_task and task_names: the table of tasks, each entry from the task's own file.
#include "tasks/task_registry.h"

#include "core/quoted.h"
#include "gpurnn/error.h"
#include "tasks/tasks.h"

namespace gpurnn::train {

const std::vector<TaskEntry>& task_entries() {
  static const std::vector<TaskEntry> entries = {
      tasks::charlm_task_entry(),    tasks::timeseries_task_entry(), tasks::adding_task_entry(),
      tasks::copy_task_entry(),      tasks::classify_task_entry(),   tasks::video_task_entry(),
      tasks::translate_task_entry(),
      tasks::sort_task_entry(),      tasks::hull_task_entry(),       tasks::tsp_task_entry(),
  };
  return entries;
}

const TaskEntry& find_task(const std::string& name) {
  std::string known;
  for (const TaskEntry& entry : task_entries()) {
    if (name == entry.name) return entry;
    known += known.empty() ? entry.name : std::string(", ") + entry.name;
  }
  throw Error(ErrorCode::invalid_argument,
              "make_task: argument 'task' is " + gpurnn::detail::quoted(name) + ", expected one of: " + known);
}

std::vector<std::string> task_names() {
  std::vector<std::string> names;
  for (const TaskEntry& entry : task_entries()) names.emplace_back(entry.name);
  return names;
}

std::unique_ptr<Task> make_task(const std::string& name, const TaskOptions& options) {
  return find_task(name).make(options);
}

}  // namespace gpurnn::train
