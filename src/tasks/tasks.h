#pragma once
// Each task's entry for the table behind make_task (src/tasks/task_registry.cpp), one file each:
// its name, the defaults it trains with and its constructor.

#include "tasks/task_registry.h"

namespace gpurnn::train::tasks {

TaskEntry charlm_task_entry();
TaskEntry timeseries_task_entry();
TaskEntry adding_task_entry();
TaskEntry copy_task_entry();
TaskEntry classify_task_entry();
TaskEntry video_task_entry();
// Output-sequence tasks (SequenceTask).
TaskEntry translate_task_entry();
TaskEntry sort_task_entry();
TaskEntry hull_task_entry();
TaskEntry tsp_task_entry();

}  // namespace gpurnn::train::tasks
