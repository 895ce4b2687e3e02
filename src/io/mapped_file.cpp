#include "io/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "gpurnn/error.h"

namespace gpurnn::io::detail {
namespace {

const std::uint8_t kEmpty[1] = {0};

[[noreturn]] void fail(const std::string& path, const char* step, int err) {
  throw Error(ErrorCode::io_error,
              "cannot read '" + path + "': " + step + ": " + std::strerror(err));
}

// Closes the descriptor on every path out of the constructor.
struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

MappedFile::MappedFile(const std::string& path) : path_(path), data_(kEmpty) {
  int fd = -1;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) fail(path, "open", errno);
  const FdGuard guard{fd};

  struct stat st {};
  if (::fstat(fd, &st) != 0) fail(path, "fstat", errno);
  if (!S_ISREG(st.st_mode)) {
    throw Error(ErrorCode::io_error, "cannot read '" + path + "': not a regular file");
  }
  if (st.st_size == 0) return;  // nothing to map

  size_ = static_cast<std::size_t>(st.st_size);
  void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) fail(path, "mmap", errno);
  data_ = static_cast<const std::uint8_t*>(p);
  mapped_ = true;
}

MappedFile::~MappedFile() { unmap(); }

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)),
      data_(other.data_),
      size_(other.size_),
      mapped_(other.mapped_) {
  other.data_ = kEmpty;
  other.size_ = 0;
  other.mapped_ = false;
}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    unmap();
    path_ = std::move(other.path_);
    data_ = std::exchange(other.data_, kEmpty);
    size_ = std::exchange(other.size_, 0);
    mapped_ = std::exchange(other.mapped_, false);
  }
  return *this;
}

void MappedFile::unmap() noexcept {
  if (mapped_) ::munmap(const_cast<std::uint8_t*>(data_), size_);
  data_ = kEmpty;
  size_ = 0;
  mapped_ = false;
}

}  // namespace gpurnn::io::detail
