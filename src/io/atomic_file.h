#pragma once
// Writes a file so that readers see either the old content or the complete new one: the bytes
// go to a temporary in the same directory ("<path>.tmp.<pid>.<counter>", created exclusively),
// which is fsync'd and then renamed over `path`. On any failure the temporary is removed and
// `path` is untouched.

#include <cstddef>
#include <string>
#include <vector>

namespace gpurnn::io::detail {

// A run of bytes to write; `data` may be null when `size` is 0.
struct ByteSpan {
  const void* data;
  std::size_t size;
};

// Writes the concatenation of `pieces` to `path`. Error(io_error) naming `path`, the failing
// step and strerror.
void write_file_atomically(const std::string& path, const std::vector<ByteSpan>& pieces);

}  // namespace gpurnn::io::detail
