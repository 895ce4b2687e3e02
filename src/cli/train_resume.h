#pragma once
// What `gpurnn train --resume FILE` takes from the checkpoint when the command line does not say
// otherwise: the data settings and seed (a different one would not continue the same data), the
// step count and the learning-rate schedule (so that an interrupted run resumed with no flags
// ends exactly where the uninterrupted run would).

#include <cstdint>
#include <string>

#include "cli/commands.h"
#include "tasks/task_registry.h"
#include "gpurnn/train/task.h"
#include "gpurnn/train/trainer.h"

namespace gpurnn::cli {

bool was_given(const TrainOptions& o, const std::string& flag);

// With --resume, a flag that says otherwise than the checkpoint is an error naming both (and
// `why`, appended, when given).
void check_resume_flag(const TrainOptions& o, const std::string& flag, const std::string& given,
                       const std::string& stored, const std::string& path, const std::string& why = "");

// --batch, --seq-len, --points, --horizon (the task's settings) and --seed of a resumed run: the
// checkpoint's when not given; a given one that differs is an error naming both values.
void adopt_resumed_data(const TrainOptions& o, const train::CheckpointInfo& resumed, train::TaskOptions& task,
                        std::uint64_t& seed);

// config.steps and config.schedule of a run from the flags and the task's defaults (`resumed`
// empty), or of a resumed run: the steps are --steps or else the checkpoint run's, and must
// exceed the checkpoint's step; the schedule is the checkpoint's unless --steps, --lr,
// --schedule or --warmup change it. Returns a note for the header when a resumed run's schedule
// is not the checkpoint's ("" otherwise).
std::string plan_schedule(const TrainOptions& o, const train::TaskDefaults& defaults, const train::CheckpointInfo& resumed,
                          train::TrainConfig& config);

}  // namespace gpurnn::cli
