#pragma once
// A user's clips for `gpurnn train video` and `gpurnn run --video`, read and checked:
//   --video   FILE.npy  [N, T, H, W], uint8 (read as value / 255) or float32, zero past each
//                       clip's end; at most kMaxDataFileBytes (1 GiB), H * W <= 65,536
//   --lengths FILE.npy  [N] int32, each in [1, T] (absent for `run`: every clip is T frames)
//   --labels  FILE.csv  N lines, each one label name (surrounding blanks and a "\r" dropped;
//                       non-empty, at most 100 bytes, no control bytes); at most 1,000 names
// Every error is Error(invalid_argument) naming the flag and the file and what was expected.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gpurnn/tensor.h"
#include "tasks/video_source.h"

namespace gpurnn::train::tasks {

constexpr std::int64_t kMaxVideoClassNames = 1000;
constexpr std::int64_t kMaxVideoFrameValues = 65536;
constexpr std::size_t kMaxVideoLabelBytes = 100;

struct VideoFiles {
  Tensor video;                          // u8 or f32 [N, T, H, W], on the host
  std::vector<std::int32_t> lengths;     // [N]
  std::vector<std::int32_t> labels;      // [N] ids into class_names (empty without --labels)
  std::vector<std::string> class_names;  // the distinct names, sorted
  std::uint64_t bytes = 0;               // the three files' sizes
  std::string hash;                      // ContentHash text of the three files' contents, in order
  std::int64_t clips() const { return video.dim(0); }
  std::int64_t frames() const { return video.dim(1); }
  std::int64_t height() const { return video.dim(2); }
  std::int64_t width() const { return video.dim(3); }
};

// `lengths_path` and `labels_path` may be empty (`run`: full-length clips, no labels).
VideoFiles read_video_files(const std::string& video_path, const std::string& lengths_path,
                            const std::string& labels_path);

// The clips `members` of a VideoFiles, as a ClipStore (frames converted to float as read).
class FileClips : public ClipStore {
 public:
  FileClips(std::shared_ptr<const VideoFiles> files, std::vector<std::int64_t> members);
  std::int64_t size() const override { return static_cast<std::int64_t>(members_.size()); }
  std::int64_t height() const override { return files_->height(); }
  std::int64_t width() const override { return files_->width(); }
  std::int64_t length(std::int64_t n) const override;
  std::int32_t label(std::int64_t n) const override;
  void frame(std::int64_t n, std::int64_t t, float* out) const override;

 private:
  std::shared_ptr<const VideoFiles> files_;
  std::vector<std::int64_t> members_;
};

// Class names as one metadata value: joined by ',', with '%', ',' and bytes outside printable
// ASCII written %XX. parse_class_names reads it back (nullopt-like: empty for a malformed text).
std::string class_names_text(const std::vector<std::string>& names);
std::vector<std::string> parse_class_names(const std::string& text);

}  // namespace gpurnn::train::tasks
