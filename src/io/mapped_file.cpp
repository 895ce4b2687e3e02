// MappedFile (see mapped_file.h). Two parts: the SIGBUS guard, a fixed table of guarded address
// ranges that a process-wide signal handler consults, and the file itself.
//
// Why zeros rather than siglongjmp: the readers parse straight from the map through C++ code
// (string_view, JSON, vectors); jumping out of that code would skip its destructors. Mapping
// zeros over the lost pages lets the faulting read finish normally; the reader then asks
// check_unchanged() and throws an ordinary exception.
#include "io/mapped_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

#include "gpurnn/error.h"

namespace gpurnn::io::detail {
namespace {

// ---- the SIGBUS guard ------------------------------------------------------------------------
// A slot holds one guarded mapping [begin, end) (end rounded up to a page). `begin` is published
// last (release) and cleared first, so the handler, reading `begin` with acquire, sees a whole
// slot or none. Only lock-free atomics are touched in the handler.
struct GuardSlot {
  std::atomic<bool> claimed{false};
  std::atomic<std::uintptr_t> begin{0};
  std::atomic<std::uintptr_t> end{0};
  std::atomic<bool> faulted{false};
};
static_assert(std::atomic<std::uintptr_t>::is_always_lock_free && std::atomic<bool>::is_always_lock_free,
              "the SIGBUS handler reads the guard table, which must be lock-free");

constexpr int kGuardSlots = 256;
GuardSlot g_slots[kGuardSlots];
std::uintptr_t g_page_size = 4096;
struct sigaction g_previous {};  // the SIGBUS action before ours: written once, before ours is installed
bool g_installed = false;
std::once_flag g_install_once;

// What would have happened without our handler.
void pass_on(int signo, siginfo_t* info, void* context) {
  const auto handler = g_previous.sa_handler;
  if (handler == SIG_IGN && info != nullptr && info->si_code <= 0) return;  // kill(2)'s, ignored as before
  if (handler == SIG_DFL || handler == SIG_IGN) {  // (the kernel does not let a fault be ignored)
    // The default action: SIGBUS is blocked while it is handled, so the raised one is delivered,
    // and ends the process, as soon as this handler returns.
    struct sigaction fallback {};
    fallback.sa_handler = SIG_DFL;
    sigemptyset(&fallback.sa_mask);
    ::sigaction(SIGBUS, &fallback, nullptr);
    ::raise(SIGBUS);
    return;
  }
  if ((g_previous.sa_flags & SA_SIGINFO) != 0) {
    g_previous.sa_sigaction(signo, info, context);
  } else {
    handler(signo);
  }
}

// A read of a guarded mapping past the end of its shrunk file: zeros from the lost page to the
// end of the mapping (every later page is past the end too), and the slot is marked. mmap is a
// plain system call on Linux, safe here though POSIX does not list it.
void on_sigbus(int signo, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  if (info != nullptr && info->si_code == BUS_ADRERR) {
    const auto address = reinterpret_cast<std::uintptr_t>(info->si_addr);
    for (GuardSlot& slot : g_slots) {
      const std::uintptr_t begin = slot.begin.load(std::memory_order_acquire);
      const std::uintptr_t end = slot.end.load(std::memory_order_relaxed);
      if (begin == 0 || address < begin || address >= end) continue;
      const std::uintptr_t page = address & ~(g_page_size - 1);
      void* zeros = ::mmap(reinterpret_cast<void*>(page), end - page, PROT_READ,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
      if (zeros == MAP_FAILED) break;
      slot.faulted.store(true, std::memory_order_release);
      errno = saved_errno;
      return;
    }
  }
  errno = saved_errno;
  pass_on(signo, info, context);
}

void install_handler() {
  const long page = ::sysconf(_SC_PAGESIZE);
  if (page > 0) g_page_size = static_cast<std::uintptr_t>(page);
  if (::sigaction(SIGBUS, nullptr, &g_previous) != 0) return;
  struct sigaction ours {};
  ours.sa_sigaction = on_sigbus;
  ours.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  sigemptyset(&ours.sa_mask);
  g_installed = ::sigaction(SIGBUS, &ours, nullptr) == 0;
}

// A slot guarding [data, data + size), or -1 when there is no guard (no free slot, or no handler).
int guard_mapping(const void* data, std::size_t size) {
  std::call_once(g_install_once, install_handler);
  if (!g_installed) return -1;
  for (int i = 0; i < kGuardSlots; ++i) {
    bool free = false;
    if (!g_slots[i].claimed.compare_exchange_strong(free, true, std::memory_order_acquire)) continue;
    const auto begin = reinterpret_cast<std::uintptr_t>(data);
    g_slots[i].faulted.store(false, std::memory_order_relaxed);
    g_slots[i].end.store(begin + (size + g_page_size - 1) / g_page_size * g_page_size, std::memory_order_relaxed);
    g_slots[i].begin.store(begin, std::memory_order_release);
    return i;
  }
  return -1;
}

// Before the mapping is unmapped, so the handler never maps over a range that is no longer ours.
void unguard_mapping(int slot) {
  g_slots[slot].begin.store(0, std::memory_order_release);
  g_slots[slot].end.store(0, std::memory_order_relaxed);
  g_slots[slot].claimed.store(false, std::memory_order_release);
}

// ---- the file ----------------------------------------------------------------------------------
const std::uint8_t kEmpty[1] = {0};

[[noreturn]] void fail(const std::string& path, const char* step, int err) {
  throw Error(ErrorCode::io_error,
              "cannot read '" + path + "': " + step + ": " + std::strerror(err));
}

const char* kind_of(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a file";
}

void require_regular(const std::string& path, const struct stat& st) {
  if (!S_ISREG(st.st_mode)) {
    throw Error(ErrorCode::io_error,
                "cannot read '" + path + "': not a regular file (" + kind_of(st.st_mode) + ")");
  }
}

// The whole file by read(2), for when no guard is available. Fewer bytes than `size` means
// the file shrank.
std::unique_ptr<std::uint8_t[]> read_whole(int fd, std::size_t size, const std::string& path) {
  std::unique_ptr<std::uint8_t[]> bytes(new std::uint8_t[size]);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, bytes.get() + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(path, "read", errno);
    if (n == 0) {
      throw Error(ErrorCode::io_error, "cannot read '" + path + "': the file shrank while it was read (from " +
                                           std::to_string(size) + " to " + std::to_string(done) + " bytes)");
    }
    done += static_cast<std::size_t>(n);
  }
  return bytes;
}

}  // namespace

MappedFile::MappedFile(const std::string& path) : path_(path), data_(kEmpty) {
  // A FIFO or device is refused before it is opened where possible (opening some devices acts),
  // and the open is non-blocking so a FIFO swapped in meanwhile cannot hang it; fstat decides.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) require_regular(path, st);
  int fd = -1;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) fail(path, "open", errno);
  fd_ = fd;
  try {
    if (::fstat(fd, &st) != 0) fail(path, "fstat", errno);
    require_regular(path, st);
    if (st.st_size == 0) {  // nothing to map
      release();
      return;
    }
    size_ = static_cast<std::size_t>(st.st_size);
    mtime_ = st.st_mtim;
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) fail(path, "mmap", errno);
    data_ = static_cast<const std::uint8_t*>(p);
    mapped_ = true;
    guard_ = guard_mapping(p, size_);
    if (guard_ < 0) {  // unguarded, a lost page would end the process: read the bytes instead
      ::munmap(p, size_);
      mapped_ = false;
      data_ = kEmpty;
      copy_ = read_whole(fd, size_, path);
      data_ = copy_.get();
    }
  } catch (...) {
    release();
    throw;
  }
}

MappedFile::~MappedFile() { release(); }

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)),
      data_(std::exchange(other.data_, kEmpty)),
      size_(std::exchange(other.size_, 0)),
      fd_(std::exchange(other.fd_, -1)),
      guard_(std::exchange(other.guard_, -1)),
      mapped_(std::exchange(other.mapped_, false)),
      copy_(std::move(other.copy_)),
      mtime_(other.mtime_) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    release();
    path_ = std::move(other.path_);
    data_ = std::exchange(other.data_, kEmpty);
    size_ = std::exchange(other.size_, 0);
    fd_ = std::exchange(other.fd_, -1);
    guard_ = std::exchange(other.guard_, -1);
    mapped_ = std::exchange(other.mapped_, false);
    copy_ = std::move(other.copy_);
    mtime_ = other.mtime_;
  }
  return *this;
}

void MappedFile::check_unchanged() const {
  if (fd_ < 0) return;  // empty when opened: nothing was read
  const bool faulted = guard_ >= 0 && g_slots[guard_].faulted.load(std::memory_order_acquire);
  struct stat now {};
  const bool known = ::fstat(fd_, &now) == 0;
  const bool same = known && static_cast<std::size_t>(now.st_size) == size_ && now.st_mtim.tv_sec == mtime_.tv_sec &&
                    now.st_mtim.tv_nsec == mtime_.tv_nsec;
  if (!faulted && (same || !known)) return;
  std::string what;
  if (known && static_cast<std::size_t>(now.st_size) < size_) {
    what = "shrank while it was read (from " + std::to_string(size_) + " to " + std::to_string(now.st_size) +
           " bytes)";
  } else if (faulted) {
    what = "lost part of its bytes while it was read (it shrank, and maybe grew again)";
  } else {
    what = "changed while it was read (its size or modification time is not what it was when opened)";
  }
  throw Error(ErrorCode::io_error, "cannot read '" + path_ + "': the file " + what +
                                       "; was it being rewritten? Read it again once it is complete");
}

void MappedFile::release() noexcept {
  if (guard_ >= 0) unguard_mapping(guard_);
  if (mapped_) ::munmap(const_cast<std::uint8_t*>(data_), size_);
  if (fd_ >= 0) ::close(fd_);
  copy_.reset();
  data_ = kEmpty;
  size_ = 0;
  fd_ = -1;
  guard_ = -1;
  mapped_ = false;
}

}  // namespace gpurnn::io::detail
