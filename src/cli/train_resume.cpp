#include "cli/train_resume.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "gpurnn/error.h"
#include "train/checkpoint_metadata.h"

namespace gpurnn::cli {
namespace {

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string describe(const train::ScheduleConfig& s) {
  return s.kind + " over " + std::to_string(s.total_steps) + " steps, warm-up " + std::to_string(s.warmup_steps) +
         ", lr " + number_text(s.base_lr);
}

bool same_schedule(const train::ScheduleConfig& a, const train::ScheduleConfig& b) {
  return a.kind == b.kind && a.base_lr == b.base_lr && a.warmup_steps == b.warmup_steps &&
         a.step_size == b.step_size && a.gamma == b.gamma && a.total_steps == b.total_steps && a.min_lr == b.min_lr;
}

}  // namespace

bool was_given(const TrainOptions& o, const std::string& flag) {
  return std::find(o.given.begin(), o.given.end(), flag) != o.given.end();
}

void check_resume_flag(const TrainOptions& o, const std::string& flag, const std::string& given,
                       const std::string& stored, const std::string& path, const std::string& why) {
  if (was_given(o, flag) && given != stored) {
    throw Error(ErrorCode::invalid_argument, flag + " " + given + " does not match the checkpoint " + path +
                                                 ", which was trained with " + stored + why);
  }
}

void adopt_resumed_data(const TrainOptions& o, const train::CheckpointInfo& resumed, train::TaskOptions& task,
                        std::uint64_t& seed) {
  const auto stored = [&](const std::string& key) -> const std::string* {
    const auto it = resumed.metadata.find(key);
    return it == resumed.metadata.end() ? nullptr : &it->second;
  };
  const auto adopt = [&](const char* flag, const char* key, std::int64_t given, std::int64_t& field) {
    const std::string* value = stored(key);
    if (value == nullptr) return;  // an older checkpoint: not recorded
    const std::int64_t number =
        train::checkpoint_detail::parse_int(o.resume, key, *value, 1, std::numeric_limits<std::int64_t>::max());
    check_resume_flag(o, flag, std::to_string(given), std::to_string(number), o.resume,
                      " (a resumed run continues the checkpoint's data; train without --resume to change it)");
    field = number;
  };
  adopt("--batch", "task.batch", o.batch, task.batch);
  adopt("--seq-len", "task.seq_len", o.seq_len, task.seq_len);
  adopt("--points", "task.points", o.points, task.points);
  adopt("--horizon", "task.horizon", o.horizon, task.horizon);
  // timeseries' --difference and --fill (recorded when set): a resume reads the data as it was read.
  if (resumed.task == "timeseries" && stored("task.seq_len") != nullptr) {
    const bool differenced = stored("task.difference") != nullptr && *stored("task.difference") == "1";
    check_resume_flag(o, "--difference", "(the first differences)",
                      differenced ? "(the first differences)" : "the levels (no --difference)", o.resume,
                      " (a resumed run continues the checkpoint's data; train without --resume to change it)");
    task.difference = differenced;
    // Recorded since the AR skip exists; a checkpoint without it was trained without one.
    const bool skipped = stored("task.ar_skip") != nullptr;
    check_resume_flag(o, "--ar-skip", o.ar_skip ? "(the AR skip)" : "(no AR skip)",
                      skipped ? "(the AR skip)" : "(no AR skip)", o.resume,
                      " (a resumed run continues the checkpoint's model; train without --resume to change it)");
    task.ar_skip = skipped;
    const std::string fill = stored("task.fill") ? *stored("task.fill") : "refuse";
    check_resume_flag(o, "--fill", o.fill, fill, o.resume,
                      " (a resumed run continues the checkpoint's data; train without --resume to change it)");
    if (fill != "refuse") task.csv_fill = fill;
  }
  if (const std::string* value = stored("seed")) {
    const std::uint64_t number = train::checkpoint_detail::parse_uint64(o.resume, "seed", *value);
    check_resume_flag(o, "--seed", std::to_string(o.seed), std::to_string(number), o.resume,
                      " (the seed orders the data and draws the dropout masks)");
    seed = number;
  }
}

std::string plan_schedule(const TrainOptions& o, const train::TaskDefaults& defaults, const train::CheckpointInfo& resumed,
                          train::TrainConfig& config) {
  const bool resuming = !o.resume.empty();
  const std::optional<train::ScheduleConfig>& stored = resumed.schedule;
  config.steps = was_given(o, "--steps") ? o.steps : (resuming && stored ? stored->total_steps : defaults.steps);
  check_argument(config.steps > 0, "gpurnn train", "--steps", "must be positive, got " + std::to_string(config.steps));
  if (resuming && config.steps <= resumed.step) {
    const std::string at = "the checkpoint " + o.resume + " is at step " + std::to_string(resumed.step);
    if (was_given(o, "--steps")) {
      throw Error(ErrorCode::invalid_argument, "--steps " + std::to_string(config.steps) + ": " + at +
                                                   " already; give more steps than " + std::to_string(resumed.step) +
                                                   " to train further");
    }
    throw Error(ErrorCode::invalid_argument, at + ", the end of its run of " + std::to_string(config.steps) +
                                                 " steps; give --steps above " + std::to_string(resumed.step) +
                                                 " to train further");
  }
  train::ScheduleConfig& s = config.schedule;
  if (resuming && stored) {
    s = *stored;
    if (was_given(o, "--schedule")) s.kind = o.schedule;
    if (was_given(o, "--lr")) s.base_lr = o.lr;
    if (was_given(o, "--warmup")) s.warmup_steps = o.warmup;
    if (config.steps != stored->total_steps) {
      s.total_steps = config.steps;
      s.step_size = std::max<std::int64_t>(1, config.steps / 3);
    }
    if (same_schedule(s, *stored)) return "";
    return "schedule: " + describe(s) + ", where the checkpoint's was " + describe(*stored) +
           ": a continuation with a new schedule, not the same as one uninterrupted run";
  }
  s.kind = was_given(o, "--schedule") ? o.schedule : defaults.schedule;
  s.base_lr = was_given(o, "--lr") ? o.lr : defaults.lr;
  s.warmup_steps = was_given(o, "--warmup") ? o.warmup : std::min(defaults.warmup, config.steps / 5);
  s.total_steps = config.steps;
  s.step_size = std::max<std::int64_t>(1, config.steps / 3);
  if (resuming) {
    return "schedule: " + describe(s) + " (the checkpoint records no schedule: it was written by an older gpurnn)";
  }
  return "";
}

}  // namespace gpurnn::cli
