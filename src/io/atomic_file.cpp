#include "io/atomic_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>

#include "gpurnn/error.h"

namespace gpurnn::io::detail {
namespace {

std::atomic<unsigned long> g_temp_counter{0};

[[noreturn]] void fail(const std::string& path, const std::string& step, int err) {
  throw Error(ErrorCode::io_error,
              "cannot write '" + path + "': " + step + ": " + std::strerror(err));
}

std::string directory_of(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
}

std::string base_name_of(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool starts_with(const std::string& text, const char* prefix) {
  return text.compare(0, std::strlen(prefix), prefix) == 0;
}

// Whether `hop` (a path of a symlink chain) lies in /proc, spelled any way: its directory
// resolved ("/dev/fd/1" is /proc/self/fd/1).
bool in_proc(const std::string& hop) {
  if (starts_with(hop, "/proc/")) return true;
  char resolved[PATH_MAX];
  return ::realpath(directory_of(hop).c_str(), resolved) != nullptr &&
         (std::strcmp(resolved, "/proc") == 0 || starts_with(resolved, "/proc/"));
}

// The file a symlink chain ends at (the path itself when it is no symlink); a dangling link's
// target, which the write creates. Error(io_error) for a loop. `through_proc` (when given) says
// whether a hop lay in /proc: /dev/stdout leads through /proc/self/fd/1 to whatever file the
// process already has open there, which must be written, not replaced (a rename would leave the
// descriptor writing to the old, unlinked file).
std::string follow_symlinks(const std::string& path, bool* through_proc = nullptr) {
  std::string current = path;
  if (through_proc != nullptr) *through_proc = false;
  for (int hop = 0; hop < 40; ++hop) {
    struct stat st{};
    if (through_proc != nullptr && in_proc(current)) *through_proc = true;
    if (::lstat(current.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return current;
    char target[PATH_MAX];
    const ssize_t n = ::readlink(current.c_str(), target, sizeof target - 1);
    if (n < 0) fail(path, "read symlink '" + current + "'", errno);
    target[n] = '\0';
    const std::string next(target);
    current = next.front() == '/' ? next : directory_of(current) + "/" + next;
  }
  fail(path, "follow symlinks", ELOOP);
}

// Whether `path` is written straight through rather than replaced: decided by what it is, never
// by where it lies (/dev/shm holds regular files). Devices, FIFOs and sockets are; so is a file
// reached through /proc (an open descriptor's file: /dev/stdout, /proc/self/fd/N). A regular
// file anywhere else, or a missing one, is replaced through a temporary.
bool written_through(const std::string& path, bool exists, const struct stat& st) {
  if (exists && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) return true;
  bool through_proc = false;
  (void)follow_symlinks(path, &through_proc);
  return exists && through_proc;
}

// Creates a fresh temporary next to `target`; returns its descriptor and sets `temp`.
int create_temporary(const std::string& path, const std::string& target, std::string& temp) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    temp = target + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(g_temp_counter++);
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
  const int fd = ::open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

// Devices, FIFOs, sockets and standard output: the bytes go straight to them.
void write_through(const std::string& path, const std::vector<ByteSpan>& pieces) {
  const bool to_stdout = path == "-";
  const int fd = to_stdout ? STDOUT_FILENO : ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail(path, "open", errno);
  for (const ByteSpan& piece : pieces) {
    if (piece.size > 0 && !write_all(fd, piece.data, piece.size)) {
      const int err = errno;
      if (!to_stdout) ::close(fd);
      fail(path, "write", err);
    }
  }
  if (!to_stdout && ::close(fd) != 0) fail(path, "close", errno);
}

// "<pid>.<n>" with a pid of no running process.
bool is_stale_suffix(const std::string& suffix) {
  const std::size_t dot = suffix.find('.');
  if (dot == 0 || dot == std::string::npos || dot + 1 == suffix.size()) return false;
  for (std::size_t i = 0; i < suffix.size(); ++i) {
    if (i != dot && (suffix[i] < '0' || suffix[i] > '9')) return false;
  }
  if (dot > 9) return false;
  const long pid = std::stol(suffix.substr(0, dot));
  if (pid <= 0 || pid == ::getpid()) return false;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

}  // namespace

int remove_stale_temporaries(const std::string& target) {
  const std::string dir = directory_of(target);
  const std::string prefix = base_name_of(target) + ".tmp.";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return 0;
  int removed = 0;
  while (const dirent* entry = ::readdir(d)) {
    const std::string name = entry->d_name;
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    if (!is_stale_suffix(name.substr(prefix.size()))) continue;
    const std::string full = dir + "/" + name;
    struct stat st{};
    if (::lstat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::unlink(full.c_str()) == 0) ++removed;
  }
  ::closedir(d);
  return removed;
}

void write_file_atomically(const std::string& path, const std::vector<ByteSpan>& pieces) {
  if (path.empty()) fail(path, "open", ENOENT);
  if (path == "-") return write_through(path, pieces);
  struct stat st{};
  const bool exists = ::stat(path.c_str(), &st) == 0;  // follows symlinks
  if (written_through(path, exists, st)) return write_through(path, pieces);
  if (exists && S_ISDIR(st.st_mode)) fail(path, "open", EISDIR);
  const std::string target = follow_symlinks(path);
  (void)remove_stale_temporaries(target);

  std::string temp;
  int fd = create_temporary(path, target, temp);
  // From here on every failure removes the temporary before reporting.
  auto give_up = [&](const char* step) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    ::unlink(temp.c_str());
    fail(path, step, err);
  };
  if (exists) {
    // The replacement keeps the old file's permission bits, and its owner where we may set it.
    if (::fchmod(fd, st.st_mode & 07777) != 0) give_up("keep the file's mode");
    if (::fchown(fd, st.st_uid, st.st_gid) != 0 && errno != EPERM) give_up("keep the file's owner");
  }
  for (const ByteSpan& piece : pieces) {
    if (piece.size > 0 && !write_all(fd, piece.data, piece.size)) give_up("write");
  }
  if (::fsync(fd) != 0) give_up("fsync");
  const int closed = ::close(fd);
  fd = -1;
  if (closed != 0) give_up("close");
  if (::rename(temp.c_str(), target.c_str()) != 0) give_up("rename");
  sync_parent_directory(target);
}

void check_writable(const std::string& path, const std::string& flag) {
  const auto refuse = [&](const std::string& why) {
    throw Error(ErrorCode::invalid_argument, flag + " " + path + ": " + why);
  };
  if (path.empty()) refuse("is empty");
  if (path == "-") return;
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) refuse("is a directory; give a file name");
    if (::access(path.c_str(), W_OK) != 0) refuse(std::string("cannot be written (") + std::strerror(errno) + ")");
    if (written_through(path, true, st)) return;
  } else if (errno != ENOENT) {
    refuse(std::string("cannot be examined (") + std::strerror(errno) + ")");
  }
  // A regular or missing file is replaced through a temporary in its (final) directory.
  const std::string dir = directory_of(follow_symlinks(path));
  struct stat dst{};
  if (::stat(dir.c_str(), &dst) != 0) {
    refuse("its directory " + dir + " does not exist (" + std::strerror(errno) + ")");
  }
  if (!S_ISDIR(dst.st_mode)) refuse(dir + " is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    refuse("its directory " + dir + " is not writable (" + std::strerror(errno) + ")");
  }
}

bool same_file(const std::string& a, const std::string& b) {
  if (a == "-" || b == "-") return false;
  struct stat sa{}, sb{};
  const bool ea = ::stat(a.c_str(), &sa) == 0, eb = ::stat(b.c_str(), &sb) == 0;
  if (ea && eb) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  if (ea != eb) return false;
  // Neither exists yet: the same final target, compared by its directory's identity and name.
  const std::string ta = follow_symlinks(a), tb = follow_symlinks(b);
  if (base_name_of(ta) != base_name_of(tb)) return false;
  struct stat da{}, db{};
  if (::stat(directory_of(ta).c_str(), &da) != 0 || ::stat(directory_of(tb).c_str(), &db) != 0) {
    return directory_of(ta) == directory_of(tb);
  }
  return da.st_dev == db.st_dev && da.st_ino == db.st_ino;
}

}  // namespace gpurnn::io::detail
