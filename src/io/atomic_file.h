#pragma once
// Writes a file so that readers see either the old content or the complete new one, without
// replacing what is not a regular file:
//   - "-" is standard output, written straight through;
//   - a path that is (or leads through symlinks to) a device, FIFO or socket (/dev/null), or an
//     existing file reached through /proc (/dev/stdout, /proc/self/fd/N: a file the process
//     already has open), is opened and written straight through. What a path is decides, never
//     its prefix: a regular file under /dev/shm is replaced like any other;
//   - a symlink is followed to its final target, which is what gets replaced (the link stays);
//   - a regular file (or a missing one) is replaced atomically: the bytes go to a temporary in
//     the same directory ("<target>.tmp.<pid>.<counter>", created exclusively), which takes the
//     old file's permission bits (and owner, where allowed), is fsync'd and renamed over the
//     target. On any failure the temporary is removed and the target is untouched. Temporaries
//     of the same target left by processes that no longer exist (a killed save) are removed.

#include <cstddef>
#include <string>
#include <vector>

namespace gpurnn::io::detail {

// A run of bytes to write; `data` may be null when `size` is 0.
struct ByteSpan {
  const void* data;
  std::size_t size;
};

// Writes the concatenation of `pieces` to `path` as above. Error(io_error) naming `path`, the
// failing step and strerror.
void write_file_atomically(const std::string& path, const std::vector<ByteSpan>& pieces);

// Checks, before any work, that write_file_atomically(path, ...) can succeed as far as the file
// system tells now: `path` is "-", an existing writable non-directory, or a missing file in an
// existing writable directory. Error(invalid_argument) naming `flag` (e.g. "--save") and why.
void check_writable(const std::string& path, const std::string& flag);

// True when `a` and `b` name the same file: the same inode when both exist, else the same
// absolute path after symlinks are followed. "-" is never the same as a file.
bool same_file(const std::string& a, const std::string& b);

// Removes "<target>.tmp.<pid>.<n>" files next to `target` whose pid is no running process.
// Returns how many it removed. (Called by write_file_atomically.)
int remove_stale_temporaries(const std::string& target);

}  // namespace gpurnn::io::detail
