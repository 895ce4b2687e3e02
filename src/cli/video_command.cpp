// `gpurnn run --checkpoint M --video CLIPS.npy [--lengths L.npy] [--output FILE]`: classifies
// each clip with a checkpoint of `gpurnn train video` and prints one line per clip,
// "<index>\t<class>\t<probability>" (to --output, atomically, or stdout), on any device.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/saved_model.h"
#include "core/quoted.h"
#include "gpurnn/error.h"
#include "io/atomic_file.h"
#include "tasks/video_files.h"

namespace gpurnn::cli {
namespace {

constexpr std::int64_t kClipsPerBatch = 64;

// The checkpoint's metadata `key` as a positive integer.
std::int64_t metadata_size(const SavedModel& saved, const std::string& key, const std::string& what) {
  const std::string& text = required_metadata(saved, key, what);
  std::int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9' || value > (std::int64_t{1} << 40)) { value = -1; break; }
    value = value * 10 + (c - '0');
  }
  if (text.empty() || value < 1) {
    throw Error(ErrorCode::io_error, "--checkpoint " + saved.path + ": metadata '" + key + "' is " +
                                         detail::quoted(text) + ", expected a positive integer");
  }
  return value;
}

// Clips [first, first + count) of `files` as one batch on `device` (targets unread).
train::Batch clip_batch(const train::tasks::FileClips& clips, std::int64_t first, std::int64_t count,
                        const Device& device) {
  std::int64_t steps = 0;
  for (std::int64_t n = first; n < first + count; ++n) steps = std::max(steps, clips.length(n));
  const std::int64_t values = clips.frame_values();
  Tensor inputs = Tensor::zeros({steps, count, values}, DType::f32);
  Tensor lengths = Tensor::empty({count}, DType::i32);
  for (std::int64_t row = 0; row < count; ++row) {
    const std::int64_t length = clips.length(first + row);
    for (std::int64_t t = 0; t < length; ++t) {
      clips.frame(first + row, t, inputs.data_as<float>() + (t * count + row) * values);
    }
    lengths.data_as<std::int32_t>()[row] = static_cast<std::int32_t>(length);
  }
  train::Batch batch;
  batch.inputs = inputs.to(device);
  batch.lengths = lengths;
  batch.targets = Tensor::zeros({count}, DType::i32);
  return batch;
}

}  // namespace

int run_video(const RunOptions& o) {
  SavedModel saved = load_saved_model(o.checkpoint, "video", "gpurnn run --video",
                                      "other tasks' checkpoints decode --text, or are used by generate and forecast",
                                      o.device, o.threads);
  const std::int64_t height = metadata_size(saved, "task.height", "frame height");
  const std::int64_t width = metadata_size(saved, "task.width", "frame width");
  const std::vector<std::string> names =
      train::tasks::parse_class_names(required_metadata(saved, "task.classes", "class names"));
  const train::ModelInterface& io = saved.model->interface();
  if (names.empty() || static_cast<std::int64_t>(names.size()) != io.output_size || height * width != io.input_size) {
    throw Error(ErrorCode::io_error, "--checkpoint " + saved.path + ": metadata 'task.classes', 'task.height' and "
                                     "'task.width' do not fit its model (" + std::to_string(io.output_size) +
                                     " classes of frames of " + std::to_string(io.input_size) + " pixels)");
  }
  auto files = std::make_shared<train::tasks::VideoFiles>(train::tasks::read_video_files(o.video, o.lengths, ""));
  if (files->height() != height || files->width() != width) {
    throw Error(ErrorCode::invalid_argument,
                "--video " + o.video + ": frames are " + std::to_string(files->height()) + "x" +
                    std::to_string(files->width()) + " pixels, but the model of --checkpoint " + saved.path +
                    " was trained on " + std::to_string(height) + "x" + std::to_string(width));
  }
  std::vector<std::int64_t> all(static_cast<std::size_t>(files->clips()));
  for (std::size_t n = 0; n < all.size(); ++n) all[n] = static_cast<std::int64_t>(n);
  const train::tasks::FileClips clips(files, all);
  const Device device = saved.model->device();

  std::string text;
  for (std::int64_t first = 0; first < clips.size(); first += kClipsPerBatch) {
    const std::int64_t count = std::min(kClipsPerBatch, clips.size() - first);
    const Tensor logits = saved.model->predict(clip_batch(clips, first, count, device)).to(DType::f64);
    const std::int64_t classes = logits.dim(1);
    for (std::int64_t row = 0; row < count; ++row) {
      const double* z = logits.data_as<double>() + row * classes;
      const std::int64_t best = std::max_element(z, z + classes) - z;
      double total = 0;
      for (std::int64_t k = 0; k < classes; ++k) total += std::exp(z[k] - z[best]);
      char probability[32];
      std::snprintf(probability, sizeof probability, "%.4f", 1.0 / total);
      text += std::to_string(first + row) + "\t" + names[static_cast<std::size_t>(best)] + "\t" + probability + "\n";
    }
  }
  if (o.output.empty()) {
    std::cout << text << std::flush;
  } else {
    io::detail::write_file_atomically(o.output, {{text.data(), text.size()}});
  }
  std::cerr << "gpurnn run: " << clips.size() << " clip(s) of " << height << "x" << width << " classified into "
            << names.size() << " classes on " << saved.device << (o.output.empty() ? "" : ", written to " + o.output)
            << "\n";
  return 0;
}

}  // namespace gpurnn::cli
