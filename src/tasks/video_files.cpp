#include "tasks/video_files.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "core/quoted.h"
#include "gpurnn/error.h"
#include "gpurnn/io/npy.h"
#include "io/mapped_file.h"
#include "tasks/task_support.h"
#include "train/checkpoint_metadata.h"

namespace gpurnn::train::tasks {
namespace {

constexpr std::uint64_t kMaxSideFileBytes = std::uint64_t{64} << 20;  // --lengths, --labels: 64 MiB

[[noreturn]] void bad(const char* flag, const std::string& path, const std::string& what) {
  throw Error(ErrorCode::invalid_argument, std::string(flag) + " " + path + ": " + what);
}

// The file's bytes, mapped (a regular file only), after its size is checked against `limit`.
io::detail::MappedFile open_checked(const char* flag, const std::string& path, std::uint64_t limit) {
  try {
    io::detail::MappedFile file(path);
    if (file.size() > limit) {
      bad(flag, path, "is " + std::to_string(file.size()) + " bytes, more than the limit of " +
                          std::to_string(limit) + " bytes for this file");
    }
    return file;
  } catch (const Error& e) {
    if (std::string(e.what()).rfind(flag, 0) == 0) throw;
    throw Error(e.code(), std::string(flag) + " " + path + ": " + e.what());
  }
}

// The .npy array of a mapped file; its errors name the flag.
Tensor parse_array(const char* flag, const io::detail::MappedFile& file) {
  try {
    return file.checked([&](const std::uint8_t* bytes, std::size_t size) { return io::parse_npy(bytes, size, file.path()); });
  } catch (const Error& e) {
    throw Error(ErrorCode::invalid_argument, std::string(flag) + " " + e.what());
  }
}

// The label names, one per line; a final newline ends the last line.
std::vector<std::string> read_label_lines(const std::string& path, const io::detail::MappedFile& file,
                                          checkpoint_detail::ContentHash& hash) {
  std::vector<std::string> lines;
  file.checked([&](const std::uint8_t* bytes, std::size_t size) {
    hash.add(bytes, size);
    const char* text = reinterpret_cast<const char*>(bytes);
    std::size_t begin = 0;
    while (begin < size) {
      const void* newline = std::memchr(text + begin, '\n', size - begin);
      const std::size_t end = newline ? static_cast<std::size_t>(static_cast<const char*>(newline) - text) : size;
      std::string line(text + begin, end - begin);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const std::size_t first = line.find_first_not_of(" \t");
      line = first == std::string::npos ? std::string() : line.substr(first, line.find_last_not_of(" \t") - first + 1);
      const std::string where = "line " + std::to_string(lines.size() + 1);
      if (line.empty()) bad("--labels", path, where + " is empty; expected one label name per line");
      if (line.size() > kMaxVideoLabelBytes) {
        bad("--labels", path, where + " is " + std::to_string(line.size()) + " bytes, more than the " +
                                  std::to_string(kMaxVideoLabelBytes) + " a label name may have");
      }
      for (unsigned char c : line) {
        if (c < 0x20 || c == 0x7f) bad("--labels", path, where + " holds a control byte: " + gpurnn::detail::quoted(line));
      }
      lines.push_back(std::move(line));
      begin = end + 1;
    }
    return 0;
  });
  if (lines.empty()) bad("--labels", path, "is empty; expected one label name per line, one line per clip");
  return lines;
}

}  // namespace

VideoFiles read_video_files(const std::string& video_path, const std::string& lengths_path,
                            const std::string& labels_path) {
  VideoFiles files;
  checkpoint_detail::ContentHash hash;
  {
    const io::detail::MappedFile file = open_checked("--video", video_path, kMaxDataFileBytes);
    files.video = parse_array("--video", file);
    files.bytes += file.size();
    file.checked([&](const std::uint8_t* bytes, std::size_t size) {
      hash.add(bytes, size);
      return 0;
    });
  }
  const Tensor& v = files.video;
  if (v.rank() != 4) {
    bad("--video", video_path, "has shape " + to_string(v.shape()) + ", expected rank 4: [N, T, H, W] (clips, frames, "
                               "height, width)");
  }
  if (v.dtype() != DType::u8 && v.dtype() != DType::f32) {
    bad("--video", video_path, std::string("holds ") + to_string(v.dtype()) + " values, expected uint8 or float32");
  }
  if (v.dim(0) < 1 || v.dim(1) < 1 || v.dim(2) < 1 || v.dim(3) < 1) {
    bad("--video", video_path, "has shape " + to_string(v.shape()) + ": every dimension must be at least 1");
  }
  if (v.dim(2) * v.dim(3) > kMaxVideoFrameValues) {
    bad("--video", video_path, "has frames of " + std::to_string(v.dim(2)) + "x" + std::to_string(v.dim(3)) +
                                   " pixels, more than the " + std::to_string(kMaxVideoFrameValues) +
                                   " a frame may have (downscale the clips)");
  }
  if (v.dtype() == DType::f32) {
    const float* p = v.data_as<float>();
    for (std::int64_t k = 0; k < v.numel(); ++k) {
      if (!std::isfinite(p[k])) bad("--video", video_path, "holds a non-finite value at flat index " + std::to_string(k));
    }
  }
  const std::int64_t n = v.dim(0), frames = v.dim(1);

  files.lengths.assign(static_cast<std::size_t>(n), static_cast<std::int32_t>(std::min<std::int64_t>(frames, INT32_MAX)));
  if (!lengths_path.empty()) {
    const io::detail::MappedFile file = open_checked("--lengths", lengths_path, kMaxSideFileBytes);
    const Tensor l = parse_array("--lengths", file);
    files.bytes += file.size();
    file.checked([&](const std::uint8_t* bytes, std::size_t size) {
      hash.add(bytes, size);
      return 0;
    });
    if (l.dtype() != DType::i32) {
      bad("--lengths", lengths_path, std::string("holds ") + to_string(l.dtype()) + " values, expected int32");
    }
    if (l.rank() != 1 || l.dim(0) != n) {
      bad("--lengths", lengths_path, "has shape " + to_string(l.shape()) + ", expected [" + std::to_string(n) +
                                         "]: one length per clip of --video " + video_path);
    }
    for (std::int64_t k = 0; k < n; ++k) {
      const std::int32_t length = l.data_as<std::int32_t>()[k];
      if (length < 1 || length > frames) {
        bad("--lengths", lengths_path, "clip " + std::to_string(k) + " has length " + std::to_string(length) +
                                           ", expected one in [1, " + std::to_string(frames) + "] (T of --video)");
      }
      files.lengths[static_cast<std::size_t>(k)] = length;
    }
  }

  if (!labels_path.empty()) {
    const io::detail::MappedFile file = open_checked("--labels", labels_path, kMaxSideFileBytes);
    files.bytes += file.size();
    const std::vector<std::string> lines = read_label_lines(labels_path, file, hash);
    if (static_cast<std::int64_t>(lines.size()) != n) {
      bad("--labels", labels_path, "has " + std::to_string(lines.size()) + " lines, expected " + std::to_string(n) +
                                       ": one label per clip of --video " + video_path);
    }
    std::map<std::string, std::int32_t> ids;
    for (const std::string& line : lines) ids.emplace(line, 0);
    if (static_cast<std::int64_t>(ids.size()) > kMaxVideoClassNames) {
      bad("--labels", labels_path, "names " + std::to_string(ids.size()) + " classes, more than the limit of " +
                                       std::to_string(kMaxVideoClassNames));
    }
    if (ids.size() < 2) bad("--labels", labels_path, "names one class only; expected at least 2 to tell apart");
    for (auto& [name, id] : ids) {
      id = static_cast<std::int32_t>(files.class_names.size());
      files.class_names.push_back(name);
    }
    for (const std::string& line : lines) files.labels.push_back(ids[line]);
  }
  files.hash = hash.text();
  return files;
}

FileClips::FileClips(std::shared_ptr<const VideoFiles> files, std::vector<std::int64_t> members)
    : files_(std::move(files)), members_(std::move(members)) {}

std::int64_t FileClips::length(std::int64_t n) const {
  return files_->lengths[static_cast<std::size_t>(members_[static_cast<std::size_t>(n)])];
}

std::int32_t FileClips::label(std::int64_t n) const {
  return files_->labels.empty() ? 0 : files_->labels[static_cast<std::size_t>(members_[static_cast<std::size_t>(n)])];
}

void FileClips::frame(std::int64_t n, std::int64_t t, float* out) const {
  const std::int64_t values = frame_values();
  const std::int64_t offset = (members_[static_cast<std::size_t>(n)] * files_->frames() + t) * values;
  if (files_->video.dtype() == DType::u8) {
    const std::uint8_t* p = files_->video.data_as<std::uint8_t>() + offset;
    for (std::int64_t k = 0; k < values; ++k) out[k] = static_cast<float>(p[k]) * (1.0f / 255.0f);
  } else {
    std::memcpy(out, files_->video.data_as<float>() + offset, static_cast<std::size_t>(values) * sizeof(float));
  }
}

std::string class_names_text(const std::vector<std::string>& names) {
  static const char kDigits[] = "0123456789ABCDEF";
  std::string text;
  for (const std::string& name : names) {
    if (!text.empty()) text += ',';
    for (unsigned char c : name) {
      if (c > 0x20 && c < 0x7f && c != '%' && c != ',') {
        text += static_cast<char>(c);
      } else {
        text += '%';
        text += kDigits[c >> 4];
        text += kDigits[c & 15];
      }
    }
  }
  return text;
}

std::vector<std::string> parse_class_names(const std::string& text) {
  const auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::vector<std::string> names(1);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ',') {
      names.emplace_back();
    } else if (c == '%') {
      if (i + 2 >= text.size()) return {};
      const int hi = digit(text[i + 1]), lo = digit(text[i + 2]);
      if (hi < 0 || lo < 0) return {};
      names.back() += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      names.back() += c;
    }
  }
  for (const std::string& name : names) {
    if (name.empty()) return {};
  }
  return names;
}

}  // namespace gpurnn::train::tasks
