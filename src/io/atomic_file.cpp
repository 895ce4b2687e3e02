#include "io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "gpurnn/error.h"

namespace gpurnn::io::detail {
namespace {

std::atomic<unsigned long> g_temp_counter{0};

[[noreturn]] void fail(const std::string& path, const std::string& step, int err) {
  throw Error(ErrorCode::io_error,
              "cannot write '" + path + "': " + step + ": " + std::strerror(err));
}

// Creates a fresh temporary next to `path`; returns its descriptor and sets `temp`.
int create_temporary(const std::string& path, std::string& temp) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    temp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(g_temp_counter++);
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) return fd;
    if (errno != EEXIST && errno != EINTR) fail(path, "create temporary '" + temp + "'", errno);
  }
  fail(path, "create temporary '" + temp + "'", EEXIST);
}

// Writes every byte of [data, data + size), retrying short writes and interruptions.
bool write_all(int fd, const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Best effort: makes the rename itself durable. A failure here does not undo the write.
void sync_parent_directory(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  const std::string dir =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

}  // namespace

void write_file_atomically(const std::string& path, const std::vector<ByteSpan>& pieces) {
  std::string temp;
  int fd = create_temporary(path, temp);
  // From here on every failure removes the temporary before reporting.
  auto give_up = [&](const char* step) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    ::unlink(temp.c_str());
    fail(path, step, err);
  };
  for (const ByteSpan& piece : pieces) {
    if (piece.size > 0 && !write_all(fd, piece.data, piece.size)) give_up("write");
  }
  if (::fsync(fd) != 0) give_up("fsync");
  const int closed = ::close(fd);
  fd = -1;
  if (closed != 0) give_up("close");
  if (::rename(temp.c_str(), path.c_str()) != 0) give_up("rename");
  sync_parent_directory(path);
}

}  // namespace gpurnn::io::detail
