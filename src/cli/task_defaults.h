#pragma once
// Which of the task-specific flags of `gpurnn train` each task reads, and the table of each
// task's defaults (its own, src/tasks) for the help.

#include <string>
#include <vector>

namespace gpurnn::cli {

// Error(invalid_argument) naming the first flag of `given` (option names as CLI11 reports
// them: "--csv") that `task` does not read, and the tasks that do.
void check_task_flags(const std::vector<std::string>& given, const std::string& task);

// The per-task defaults as a table for `gpurnn train --help`.
std::string task_defaults_help();

}  // namespace gpurnn::cli
