#pragma once
// Batches of video clips, bucketed by length: the clips' order, pools and batches are
// BucketedSource's (over the clips' lengths alone), and each batch's frames are made when the
// batch is (rendered for generated clips, converted from the file for a user's), so a source
// holds no frames of its own beyond what its ClipStore keeps.

#include <cstdint>
#include <memory>
#include <vector>

#include "gpurnn/train/batch.h"
#include "tasks/bucketed_source.h"
#include "tasks/video_clips.h"

namespace gpurnn::train::tasks {

// Clips with lengths, labels and frames of frame_values() floats each.
class ClipStore {
 public:
  virtual ~ClipStore() = default;
  virtual std::int64_t size() const = 0;
  virtual std::int64_t height() const = 0;
  virtual std::int64_t width() const = 0;
  std::int64_t frame_values() const { return height() * width(); }
  virtual std::int64_t length(std::int64_t n) const = 0;
  virtual std::int32_t label(std::int64_t n) const = 0;
  // Frame t (in [0, length(n))) of clip n into out[frame_values()].
  virtual void frame(std::int64_t n, std::int64_t t, float* out) const = 0;
};

// Generated clips (video_clips.h), each rendered when a batch needs it.
class GeneratedClips : public ClipStore {
 public:
  explicit GeneratedClips(std::vector<VideoClip> clips);
  std::int64_t size() const override { return static_cast<std::int64_t>(clips_.size()); }
  std::int64_t height() const override { return side_; }
  std::int64_t width() const override { return side_; }
  std::int64_t length(std::int64_t n) const override { return clips_[static_cast<std::size_t>(n)].length; }
  std::int32_t label(std::int64_t n) const override { return clips_[static_cast<std::size_t>(n)].label; }
  void frame(std::int64_t n, std::int64_t t, float* out) const override;

 private:
  std::vector<VideoClip> clips_;
  std::int64_t side_ = 0;
};

// inputs f32 [T, rows, frame_values], targets final_classes i32 [rows]; T the batch's longest
// clip. Error(invalid_argument) as BucketedSource's for an empty store or a label outside
// [0, classes).
class VideoSource : public BatchSource {
 public:
  VideoSource(std::shared_ptr<const ClipStore> clips, std::int64_t classes, std::int64_t rows,
              std::int64_t pool_batches, std::uint64_t seed);

  std::int64_t batches_per_epoch() const override { return order_->batches_per_epoch(); }
  Batch batch(std::int64_t index) const override;

 private:
  std::shared_ptr<const ClipStore> clips_;
  ModelInterface interface_;
  std::unique_ptr<BucketedSource> order_;  // over a dataset of the clips' lengths (1 value per frame)
};

// The mean of clip n's frames (frame_values() floats).
std::vector<float> mean_frame(const ClipStore& clips, std::int64_t n);

}  // namespace gpurnn::train::tasks
