#pragma once
// A read-only memory map of a whole file, unmapped when the object dies. An empty file is
// never mapped (mmap refuses zero lengths): data() then points at a static empty buffer.
// The map is MAP_PRIVATE; a file truncated by another process while mapped can still raise
// SIGBUS on access, as with any mmap reader.

#include <cstddef>
#include <cstdint>
#include <string>

namespace gpurnn::io::detail {

class MappedFile {
 public:
  // Error(io_error) naming `path` and strerror when open, fstat or mmap fails, or when `path`
  // is not a regular file.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  void unmap() noexcept;

  std::string path_;
  const std::uint8_t* data_;
  std::size_t size_ = 0;
  bool mapped_ = false;
};

}  // namespace gpurnn::io::detail
