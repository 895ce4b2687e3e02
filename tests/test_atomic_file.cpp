// write_file_atomically (io/atomic_file.h) replaces regular files atomically and nothing else:
// devices, FIFOs and "-" are written straight through, symlinks are followed and kept, the old
// file's mode survives, and temporaries of killed writers are cleaned up (issue 22: --output
// /dev/null turned the device into a regular file, a 0600 file came back 0644).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <thread>

#include "io/atomic_file.h"
#include "test_support.h"

namespace gpurnn::io::detail {
namespace {

using testing::read_bytes;
using testing::ScratchDir;

void write_text(const std::string& path, const std::string& text) {
  write_file_atomically(path, {{text.data(), text.size()}});
}

// Runs `fn` with the process's standard output redirected to a new file at `path`.
void with_stdout_in(const std::string& path, const std::function<void()>& fn) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  std::fflush(stdout);
  const int saved = ::dup(STDOUT_FILENO);
  ::dup2(fd, STDOUT_FILENO);
  fn();
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
  ::close(fd);
}

mode_t mode_of(const std::string& path) {
  struct stat st{};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode;
}

TEST(AtomicFile, KeepsThePermissionBitsOfTheFileItReplaces) {
  ScratchDir dir;
  for (mode_t mode : {0600, 0640, 0755}) {
    const std::string path = dir.file("f" + std::to_string(mode));
    write_text(path, "old");
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    write_text(path, "new");
    EXPECT_EQ(read_bytes(path), "new");
    EXPECT_EQ(mode_of(path) & 07777, mode);
  }
}

TEST(AtomicFile, FollowsSymlinksAndKeepsThem) {
  ScratchDir dir;
  write_text(dir.file("target"), "old");
  ASSERT_EQ(::symlink("target", dir.file("link").c_str()), 0);       // relative
  ASSERT_EQ(::symlink(dir.file("link").c_str(), dir.file("link2").c_str()), 0);  // a chain
  write_text(dir.file("link2"), "new");
  EXPECT_TRUE(S_ISLNK(mode_of(dir.file("link"))));
  EXPECT_TRUE(S_ISLNK(mode_of(dir.file("link2"))));
  EXPECT_EQ(read_bytes(dir.file("target")), "new");
  // A dangling link: its target is created, the link stays.
  ASSERT_EQ(::symlink("made", dir.file("dangling").c_str()), 0);
  write_text(dir.file("dangling"), "fresh");
  EXPECT_TRUE(S_ISLNK(mode_of(dir.file("dangling"))));
  EXPECT_EQ(read_bytes(dir.file("made")), "fresh");
  // A loop is an error, not a hang.
  ASSERT_EQ(::symlink("loop_b", dir.file("loop_a").c_str()), 0);
  ASSERT_EQ(::symlink("loop_a", dir.file("loop_b").c_str()), 0);
  testing::expect_error([&] { write_text(dir.file("loop_a"), "x"); }, ErrorCode::io_error, {"loop_a"});
}

TEST(AtomicFile, DevicesAreWrittenThroughNotReplaced) {
  ScratchDir dir;
  // A link to /dev/null: the device is written (and stays a device), the link stays a link.
  ASSERT_EQ(::symlink("/dev/null", dir.file("null").c_str()), 0);
  write_text(dir.file("null"), "discarded");
  EXPECT_TRUE(S_ISLNK(mode_of(dir.file("null"))));
  struct stat st{};
  ASSERT_EQ(::stat(dir.file("null").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(dir.entries().size(), 1u);  // no temporary beside the link
}

TEST(AtomicFile, FifosAreWrittenThrough) {
  ScratchDir dir;
  const std::string fifo = dir.file("pipe");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string received;
  std::thread reader([&] { received = read_bytes(fifo); });
  write_text(fifo, "through the pipe");
  reader.join();
  EXPECT_EQ(received, "through the pipe");
  EXPECT_TRUE(S_ISFIFO(mode_of(fifo)));
}

// A tmpfs outside /tmp (/dev/shm) holds regular files: one there is replaced whole, never written
// over in place (issue 34: 968 new bytes followed by the old ones), and a new one is created.
TEST(AtomicFile, RegularFilesUnderDevAreReplacedLikeAnyOther) {
  if (::access("/dev/shm", W_OK) != 0) GTEST_SKIP() << "no writable /dev/shm";
  const std::string path = "/dev/shm/gpurnn_atomic_" + std::to_string(::getpid());
  write_text(path, std::string(100000, 'o'));
  const ino_t before = [&] { struct stat st{}; ::stat(path.c_str(), &st); return st.st_ino; }();
  write_text(path, "short");
  EXPECT_EQ(read_bytes(path), "short");
  struct stat st{};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_NE(st.st_ino, before) << "replaced through a temporary, not written over";
  ::unlink(path.c_str());
  EXPECT_NO_THROW(check_writable(path, "--output"));
  write_text(path, "new file");
  EXPECT_EQ(read_bytes(path), "new file");
  ::unlink(path.c_str());
}

// /dev/stdout leads through /proc/self/fd/1 to the file the process has open: that file is
// written where it is (a rename would leave the descriptor on the old, unlinked file).
TEST(AtomicFile, StandardOutputRedirectedToAFileIsWrittenInPlace) {
  ScratchDir dir;
  const std::string captured = dir.file("stdout");
  with_stdout_in(captured, [] { write_text("/dev/stdout", "through the descriptor\n"); });
  EXPECT_EQ(read_bytes(captured), "through the descriptor\n");
  EXPECT_EQ(dir.entries().size(), 1u);  // no temporary left beside it
}

TEST(AtomicFile, DashIsStandardOutput) {
  ScratchDir dir;
  const std::string captured = dir.file("stdout");
  with_stdout_in(captured, [] { write_text("-", "to stdout\n"); });
  EXPECT_EQ(read_bytes(captured), "to stdout\n");
}

TEST(AtomicFile, RemovesTemporariesOfDeadWritersOnly) {
  ScratchDir dir;
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ::waitpid(child, nullptr, 0);  // a pid that no process has now
  const std::string path = dir.file("model.safetensors");
  const std::string dead = path + ".tmp." + std::to_string(child) + ".7";
  const std::string alive = path + ".tmp.1.0";  // pid 1 always runs
  const std::string other = dir.file("other.safetensors.tmp." + std::to_string(child) + ".1");
  const std::string not_ours = path + ".tmp.notapid";
  for (const std::string& p : {dead, alive, other, not_ours}) write_text(p, "partial");
  write_text(path, "complete");
  EXPECT_EQ(read_bytes(path), "complete");
  EXPECT_EQ(read_bytes(dead), "");
  EXPECT_EQ(read_bytes(alive), "partial");
  EXPECT_EQ(read_bytes(other), "partial");   // another file's temporaries are left alone
  EXPECT_EQ(read_bytes(not_ours), "partial");
  EXPECT_EQ(remove_stale_temporaries(path), 0);
}

TEST(AtomicFile, CheckWritableRefusesBeforeAnyWork) {
  ScratchDir dir;
  EXPECT_NO_THROW(check_writable("-", "--output"));
  EXPECT_NO_THROW(check_writable(dir.file("new.npy"), "--output"));
  EXPECT_NO_THROW(check_writable("/dev/null", "--output"));
  testing::expect_error([&] { check_writable(dir.file("no/such/x.safetensors"), "--save"); },
                        ErrorCode::invalid_argument, {"--save", "no/such", "does not exist"});
  testing::expect_error([&] { check_writable(dir.path(), "--json"); }, ErrorCode::invalid_argument,
                        {"--json", "is a directory"});
  testing::expect_error([&] { check_writable("", "--save"); }, ErrorCode::invalid_argument, {"--save", "empty"});
  EXPECT_TRUE(dir.empty());  // checking writes nothing
}

TEST(AtomicFile, SameFileSeesThroughSpellingsAndLinks) {
  ScratchDir dir;
  write_text(dir.file("a"), "x");
  ASSERT_EQ(::symlink("a", dir.file("to_a").c_str()), 0);
  EXPECT_TRUE(same_file(dir.file("a"), dir.file("a")));
  EXPECT_TRUE(same_file(dir.file("a"), dir.path() + "/./a"));
  EXPECT_TRUE(same_file(dir.file("a"), dir.file("to_a")));
  EXPECT_TRUE(same_file(dir.file("missing"), dir.path() + "/../" + dir.path().substr(dir.path().rfind('/') + 1) + "/missing"));
  EXPECT_FALSE(same_file(dir.file("a"), dir.file("b")));
  EXPECT_FALSE(same_file(dir.file("missing"), dir.file("a")));
  EXPECT_FALSE(same_file("-", "-"));
}

}  // namespace
}  // namespace gpurnn::io::detail
