// Video classification: clips of greyscale frames, one class per clip for what happens over
// time (final_classes). Each frame's pixels are one step's features; the model projects them
// (a learned per-frame Linear layer, the task's default --embedding) into an LSTM and classifies
// from each clip's last frame. Default data: generated clips (video_clips.h), a fixed training
// set and a held-out set drawn from the seed, lengths a third of --seq-len to --seq-len. Or a
// user's clips (--video, --lengths, --labels; video_files.h), a tenth held out (drawn from the
// seed). Batches are bucketed by length. The report sets the accuracy beside chance and beside
// logistic regression on the clips' mean frames (video_baseline.h), which sees every frame's
// content but not their order.
#include <algorithm>
#include <filesystem>
#include <numeric>
#include <system_error>
#include <string>

#include "gpurnn/error.h"
#include "tasks/counter_rng.h"
#include "tasks/data_record.h"
#include "tasks/task_support.h"
#include "tasks/tasks.h"
#include "tasks/video_baseline.h"
#include "tasks/video_files.h"
#include "tasks/video_source.h"

namespace gpurnn::train::tasks {
namespace {

constexpr const char* kWhere = "make_task(video)";
constexpr std::int64_t kSide = kVideoSide;
constexpr std::int64_t kDefaultMaxLength = 48;
constexpr std::int64_t kDefaultRows = 32;
constexpr std::int64_t kTrainClips = 8192;
constexpr std::int64_t kEvalClips = 1024;
constexpr std::int64_t kPoolBatches = 16;

// `path` made absolute (as file_record records --video), so a resume elsewhere finds it.
std::string absolute_path(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  return ec ? path : absolute.lexically_normal().string();
}

// The most common class's share of `clips` (always answering it).
double chance_accuracy(const ClipStore& clips, std::int64_t classes) {
  std::vector<std::int64_t> per_class(static_cast<std::size_t>(classes), 0);
  for (std::int64_t n = 0; n < clips.size(); ++n) ++per_class[static_cast<std::size_t>(clips.label(n))];
  return static_cast<double>(*std::max_element(per_class.begin(), per_class.end())) /
         static_cast<double>(clips.size());
}

std::shared_ptr<const ClipStore> generated(std::uint64_t seed, std::uint64_t split, std::int64_t count,
                                           std::int64_t min_length, std::int64_t max_length) {
  std::vector<VideoClip> clips;
  for (std::int64_t n = 0; n < count; ++n) {
    clips.push_back(draw_clip(seed, split, static_cast<std::uint64_t>(n), kSide, min_length, max_length));
  }
  return std::make_shared<GeneratedClips>(std::move(clips));
}

class VideoTask : public BasicTask {
 public:
  explicit VideoTask(const TaskOptions& options) : BasicTask("video") {
    const std::int64_t rows = option_or(options.batch, kDefaultRows, kWhere, "batch");
    std::shared_ptr<const ClipStore> train, eval;
    std::int64_t classes = kVideoClasses;
    std::vector<std::string> names = video_class_names();
    std::int64_t height = kSide, width = kSide;
    if (options.video_path.empty()) {
      check_argument(options.labels_path.empty() && options.lengths_path.empty(), kWhere, "video",
                     "--lengths and --labels need --video FILE (the clips they describe)");
      const std::int64_t max_length = option_or(options.seq_len, kDefaultMaxLength, kWhere, "seq_len");
      check_argument(max_length >= 6, kWhere, "seq_len", "must be at least 6, got " + std::to_string(max_length));
      const std::int64_t min_length = max_length / 3;
      train = generated(options.seed, kTrainStream, kTrainClips, min_length, max_length);
      eval = generated(options.seed, kEvalStream, kEvalClips, min_length, max_length);
      settings_.emplace_back("seq_len", std::to_string(max_length));
      description_ = describe_video_clips(kSide, min_length, max_length) + "; " + format_count(kTrainClips) +
                     " training and " + format_count(kEvalClips) + " held-out clips drawn from the seed";
    } else {
      check_argument(!options.labels_path.empty(), kWhere, "labels",
                     "--video needs --labels FILE.csv (one label name per clip, one per line)");
      check_argument(options.seq_len == 0, kWhere, "seq_len",
                     "applies to the generated clips only; --video's clips have their own lengths (--lengths)");
      auto files = std::make_shared<VideoFiles>(
          read_video_files(options.video_path, options.lengths_path, options.labels_path));
      check_argument(files->clips() >= 2, kWhere, "video",
                     "--video " + options.video_path + " holds 1 clip; at least 2 are needed (a tenth, at least "
                     "one, is held out for evaluation)");
      classes = static_cast<std::int64_t>(files->class_names.size());
      names = files->class_names;
      height = files->height();
      width = files->width();
      // A tenth (at least one clip) held out, chosen by a permutation drawn from the seed.
      std::vector<std::int64_t> order(static_cast<std::size_t>(files->clips()));
      std::iota(order.begin(), order.end(), std::int64_t{0});
      CounterRng rng({options.seed, kShuffleStream, 0x766964, 0});
      for (std::size_t i = order.size(); i > 1; --i) {
        std::swap(order[i - 1], order[static_cast<std::size_t>(rng.below(static_cast<std::int64_t>(i)))]);
      }
      const std::size_t held = std::max<std::size_t>(1, order.size() / 10);
      std::vector<std::int64_t> eval_members(order.end() - static_cast<std::ptrdiff_t>(held), order.end());
      order.resize(order.size() - held);
      std::sort(order.begin(), order.end());
      std::sort(eval_members.begin(), eval_members.end());
      record_ = file_record(options.video_path, files->bytes, files->hash);
      record_.emplace_back("lengths", options.lengths_path.empty() ? "" : absolute_path(options.lengths_path));
      record_.emplace_back("labels", absolute_path(options.labels_path));
      description_ = "clips of '" + options.video_path + "': " + format_count(files->clips()) + " of up to " +
                     std::to_string(files->frames()) + " frames of " + std::to_string(height) + "x" +
                     std::to_string(width) + " pixels (" + (files->video.dtype() == DType::u8 ? "uint8 / 255" : "float32") +
                     "), " + std::to_string(classes) + " classes; " + format_count(static_cast<std::int64_t>(order.size())) +
                     " training and " + format_count(static_cast<std::int64_t>(held)) + " held-out clips";
      train = std::make_shared<FileClips>(files, std::move(order));
      eval = std::make_shared<FileClips>(files, std::move(eval_members));
    }
    interface_ = {InputKind::features, height * width, TargetKind::final_classes, classes};
    train_ = std::make_unique<VideoSource>(train, classes, rows, kPoolBatches, options.seed);
    eval_ = std::make_unique<VideoSource>(eval, classes, rows, kPoolBatches, options.seed);
    chance_accuracy_ = chance_accuracy(*eval, classes);
    mean_frame_accuracy_ = mean_frame_accuracy(*train, *eval, classes);
    settings_.emplace_back("batch", std::to_string(rows));
    settings_.emplace_back("height", std::to_string(height));
    settings_.emplace_back("width", std::to_string(width));
    settings_.emplace_back("classes", class_names_text(names));
    description_ += ", bucketed by length, batch " + std::to_string(rows);
  }

  Report report(const EvalResult& eval) const override {
    Report report;
    if (eval.accuracy) report.emplace_back("accuracy", format_number(*eval.accuracy));
    report.emplace_back("chance_accuracy", format_number(chance_accuracy_));
    report.emplace_back("mean_frame_accuracy", format_number(mean_frame_accuracy_));
    report.emplace_back("loss", format_number(eval.mean_loss));
    return report;
  }

 private:
  double chance_accuracy_ = 0.0;      // always the held-out set's most common class
  double mean_frame_accuracy_ = 0.0;  // logistic regression on each clip's mean frame
};

}  // namespace

std::unique_ptr<Task> make_video_task(const TaskOptions& options) { return std::make_unique<VideoTask>(options); }

TaskEntry video_task_entry() {
  return {"video", {"lstm", 128, 1500, 20, 1e-2, 1.0, "general", 1, "cosine", 1, 32}, make_video_task};
}

}  // namespace gpurnn::train::tasks
