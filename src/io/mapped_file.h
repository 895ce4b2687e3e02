#pragma once
// A read-only memory map of a whole regular file, unmapped when the object dies. An empty file
// is never mapped (mmap refuses zero lengths): data() then points at a static empty buffer.
//
// Only regular files are read: a FIFO, a device, a directory or a socket is refused at once (the
// file is opened non-blocking, so a FIFO without a writer cannot hang the open).
//
// A file that shrinks while it is mapped (another process truncates or rewrites it) would make
// reading a lost page raise SIGBUS and end the process. Instead every mapping is guarded: the
// library's SIGBUS handler (installed once, with the first mapping) maps zeros over the lost
// pages of a guarded mapping, marks it, and lets the read go on; check_unchanged() then turns
// that mark, or a changed size or modification time, into an io_error naming the file. A
// reader therefore calls check_unchanged() after reading what its result depends on (or reads
// through checked()), and never trusts bytes it read from a file that changed.
//
// The handler is process-wide and serves any thread. A SIGBUS outside every guarded mapping is
// passed on to the handler that was installed before the library's (a host application's own),
// or, where there was none, ends the process as it would have without the library. A handler
// installed after the library's replaces it: guarded reads then fault to that handler, which
// can pass them on to the library's (its previous one) as well-behaved handlers do. When no
// guard is available (more than 256 mappings alive at once) the file is read into memory.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>

namespace gpurnn::io::detail {

class MappedFile {
 public:
  // Error(io_error) naming `path` and strerror when open, fstat or mmap fails, or when `path`
  // is not a regular file ("not a regular file (a FIFO)").
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Error(io_error) naming the file when a read of the map met a page lost to a shrinking file
  // (it read zeros), or when the file's size or modification time differs from when it was
  // opened: "cannot read 'x.npy': the file shrank while it was read (from 1048704 to 0 bytes)
  // ...". Returns quietly otherwise.
  void check_unchanged() const;

  // read(data(), size()), then check_unchanged(). An Error that `read` throws about bytes of a
  // file that changed (say, a header found truncated) becomes check_unchanged()'s error.
  template <class Read>
  auto checked(Read&& read) const {
    try {
      auto result = read(data_, size_);
      check_unchanged();
      return result;
    } catch (...) {
      check_unchanged();
      throw;
    }
  }

 private:
  void release() noexcept;

  std::string path_;
  const std::uint8_t* data_;
  std::size_t size_ = 0;
  int fd_ = -1;                         // open while the file is non-empty, for check_unchanged
  int guard_ = -1;                      // the guard slot of a guarded mapping, -1 otherwise
  bool mapped_ = false;                 // data_ is a mapping (guarded or not)
  std::unique_ptr<std::uint8_t[]> copy_;  // the bytes, when read rather than mapped
  struct timespec mtime_ {};            // the modification time when opened
};

}  // namespace gpurnn::io::detail
