#pragma once
// The task constructors behind make_task (src/train/data/task_registry.cpp), one file each.

#include <memory>

#include "gpurnn/train/task.h"

namespace gpurnn::train::data {

std::unique_ptr<Task> make_charlm_task(const TaskOptions& options);
std::unique_ptr<Task> make_timeseries_task(const TaskOptions& options);
std::unique_ptr<Task> make_adding_task(const TaskOptions& options);
std::unique_ptr<Task> make_copy_task(const TaskOptions& options);
std::unique_ptr<Task> make_classify_task(const TaskOptions& options);
// Output-sequence tasks (SequenceTask).
std::unique_ptr<Task> make_translate_task(const TaskOptions& options);
std::unique_ptr<Task> make_sort_task(const TaskOptions& options);
std::unique_ptr<Task> make_hull_task(const TaskOptions& options);
std::unique_ptr<Task> make_tsp_task(const TaskOptions& options);

}  // namespace gpurnn::train::data
