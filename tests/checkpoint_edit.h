#pragma once
// Test helpers that change a checkpoint as a user (or a broken disk) might: rewrite it with its
// tensors or metadata edited (the checksum recomputed while the metadata keeps one, so the check
// under test is the one reached), or flip one byte of its data section.
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "gpurnn/io/safetensors.h"
#include "train/checkpoint_metadata.h"

namespace gpurnn::testing {

using CheckpointTensors = std::vector<std::pair<std::string, Tensor>>;
using CheckpointMetadata = std::map<std::string, std::string>;

// `from` read, `edit` applied to its tensors (in file order) and metadata, written to `to`.
inline void rewrite_checkpoint(const std::string& from, const std::string& to,
                               const std::function<void(CheckpointTensors&, CheckpointMetadata&)>& edit) {
  CheckpointTensors tensors;
  CheckpointMetadata meta;
  {
    const io::SafetensorsReader file(from);
    for (const io::SafetensorsRecord& r : file.records()) tensors.emplace_back(r.name, file.read(r.name));
    meta = file.metadata();
  }
  edit(tensors, meta);
  std::vector<io::NamedTensor> named;
  train::checkpoint_detail::ContentHash hash;
  for (const auto& [name, t] : tensors) {
    named.push_back({name, t.view()});
    hash.add(t.data(), t.bytes());
  }
  if (meta.count("checksum")) meta["checksum"] = hash.text();
  io::write_safetensors(to, named, meta);
}

// The checkpoint as written before format versions and checksums (an older build's).
inline void strip_checksum(const std::string& from, const std::string& to) {
  rewrite_checkpoint(from, to, [](CheckpointTensors&, CheckpointMetadata& meta) {
    meta.erase("checksum");
    meta.erase("format_version");
  });
}

// XORs the byte `from_end` bytes before the end of `path` (in its data section) with 0x40.
inline void flip_byte(const std::string& path, std::streamoff from_end = 3) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(-from_end, std::ios::end);
  char c = 0;
  f.get(c);
  f.seekp(-from_end, std::ios::end);
  f.put(static_cast<char>(c ^ 0x40));
}

}  // namespace gpurnn::testing
