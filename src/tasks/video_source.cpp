#include "tasks/video_source.h"

#include <algorithm>

#include "gpurnn/error.h"
#include "tasks/new_batch.h"

namespace gpurnn::train::tasks {

GeneratedClips::GeneratedClips(std::vector<VideoClip> clips) : clips_(std::move(clips)) {
  check_argument(!clips_.empty(), "GeneratedClips", "clips", "is empty");
  side_ = clips_.front().side;
  for (const VideoClip& clip : clips_) {
    check_argument(clip.side == side_ && clip.length >= 1, "GeneratedClips", "clips",
                   "must share one frame size and have at least one frame each");
  }
}

void GeneratedClips::frame(std::int64_t n, std::int64_t t, float* out) const {
  render_frame(clips_[static_cast<std::size_t>(n)], t, out);
}

namespace {

// The ordering dataset: one zero per frame, so BucketedSource sees each clip's length.
std::shared_ptr<const SequenceDataset> lengths_dataset(const ClipStore& clips) {
  auto dataset = std::make_shared<SequenceDataset>();
  dataset->features = 1;
  for (std::int64_t n = 0; n < clips.size(); ++n) {
    dataset->frames.emplace_back(static_cast<std::size_t>(clips.length(n)), 0.0f);
    dataset->labels.push_back(clips.label(n));
  }
  return dataset;
}

}  // namespace

VideoSource::VideoSource(std::shared_ptr<const ClipStore> clips, std::int64_t classes, std::int64_t rows,
                         std::int64_t pool_batches, std::uint64_t seed)
    : clips_(std::move(clips)),
      interface_{InputKind::features, 0, TargetKind::final_classes, classes} {
  check_argument(clips_ != nullptr && clips_->size() > 0, "VideoSource", "clips", "is empty");
  interface_.input_size = clips_->frame_values();
  order_ = std::make_unique<BucketedSource>(lengths_dataset(*clips_), classes, rows, pool_batches, seed);
}

Batch VideoSource::batch(std::int64_t index) const {
  const std::vector<std::size_t> members = order_->members(index);
  std::int64_t steps = 0;
  for (std::size_t n : members) steps = std::max(steps, clips_->length(static_cast<std::int64_t>(n)));
  const auto rows = static_cast<std::int64_t>(members.size());
  const std::int64_t values = clips_->frame_values();
  Batch batch = new_batch(interface_, steps, rows);
  float* inputs = batch.inputs.data_as<float>();
  for (std::int64_t row = 0; row < rows; ++row) {
    const auto n = static_cast<std::int64_t>(members[static_cast<std::size_t>(row)]);
    const std::int64_t length = clips_->length(n);
    for (std::int64_t t = 0; t < length; ++t) clips_->frame(n, t, inputs + (t * rows + row) * values);
    batch.lengths.data_as<std::int32_t>()[row] = static_cast<std::int32_t>(length);
    batch.targets.data_as<std::int32_t>()[row] = clips_->label(n);
  }
  return batch;
}

std::vector<float> mean_frame(const ClipStore& clips, std::int64_t n) {
  const auto values = static_cast<std::size_t>(clips.frame_values());
  std::vector<float> frame(values), sum(values, 0.0f);
  const std::int64_t length = clips.length(n);
  for (std::int64_t t = 0; t < length; ++t) {
    clips.frame(n, t, frame.data());
    for (std::size_t k = 0; k < values; ++k) sum[k] += frame[k];
  }
  for (float& v : sum) v /= static_cast<float>(length);
  return sum;
}

}  // namespace gpurnn::train::tasks
