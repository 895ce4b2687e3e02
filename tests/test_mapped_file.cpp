// Every file reader maps its file (src/io/mapped_file.h). Issue 34: a file that shrank while it
// was read killed the process with SIGBUS (exit 135, no message), and a FIFO with no writer hung
// the reader forever. Here: a shrunk file is an io_error naming it, on every reader, from any
// thread; a host application's own SIGBUS handler still gets every fault outside a reader's
// mapping; a FIFO is refused at once.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gpurnn/io/npy.h"
#include "gpurnn/io/safetensors.h"
#include "gpurnn/train/task.h"
#include "tasks/csv_column.h"
#include "tasks/task_registry.h"
#include "test_support.h"

namespace gpurnn::io {
namespace {

using testing::expect_error;
using testing::ScratchDir;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Two tensors of 256 KiB each: the data section spans many pages.
std::string save_two_tensors(const ScratchDir& dir) {
  const std::string path = dir.file("two.safetensors");
  const Tensor a = testing::numbered({65536}, DType::f32);
  const Tensor b = testing::numbered({256, 256}, DType::f32);
  write_safetensors(path, {{"a", a.view()}, {"b", b.view()}});
  return path;
}

// Maps `path` itself (no reader involved), truncates it and touches the lost page: a SIGBUS
// outside every reader's mapping.
void fault_outside_any_reader(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || ::ftruncate(fd, 65536) != 0) _exit(90);
  void* p = ::mmap(nullptr, 65536, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED || ::ftruncate(fd, 0) != 0) _exit(91);
  (void)*static_cast<volatile const char*>(p);
  _exit(92);  // not reached: the read above faults
}

// ---- a file that shrinks under a reader -------------------------------------------------------
// The safetensors reader keeps its file mapped and reads each tensor when asked: truncating the
// file between opening and reading is deterministic.
TEST(MappedFile, ReadingAFileThatShrankIsAnErrorNamingIt) {
  ScratchDir dir;
  const std::string path = save_two_tensors(dir);
  const SafetensorsReader reader(path);
  ASSERT_EQ(reader.read("a").numel(), 65536);
  ASSERT_EQ(::truncate(path.c_str(), 0), 0);
  expect_error([&] { reader.read("b"); }, ErrorCode::io_error, {path, "shrank while it was read"});
  expect_error([&] { reader.read("a"); }, ErrorCode::io_error, {path, "shrank"});
}

// The same from another thread than the one that opened the file.
TEST(MappedFile, ReadingAFileThatShrankIsAnErrorOnAnyThread) {
  ScratchDir dir;
  const std::string path = save_two_tensors(dir);
  const SafetensorsReader reader(path);
  ASSERT_EQ(::truncate(path.c_str(), 100), 0);
  std::thread([&] { expect_error([&] { reader.read("b"); }, ErrorCode::io_error, {path, "shrank"}); }).join();
}

// A file rewritten in place to the same size (truncated, then written again) is not silently
// read as a mix of old and new bytes.
TEST(MappedFile, ReadingAFileRewrittenInPlaceIsAnError) {
  ScratchDir dir;
  const std::string path = save_two_tensors(dir);
  const SafetensorsReader reader(path);
  const std::string bytes = testing::read_bytes(path);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a later modification time
  ASSERT_EQ(::truncate(path.c_str(), 0), 0);
  std::ofstream(path, std::ios::binary | std::ios::in | std::ios::out) << bytes;
  expect_error([&] { reader.read("b"); }, ErrorCode::io_error, {path, "while it was read"});
}

// Outcomes of reading `path` over and over on two threads while a third flips its size between
// `full` and `short_size` bytes (regrown bytes read as zeros).
struct Outcomes {
  int ok = 0;
  int shrank = 0;   // errors saying the file shrank (a lost page read as zeros, or a smaller size)
  int changed = 0;  // errors saying the file changed otherwise while it was read
  int other = 0;    // other errors naming the file (e.g. a truncated header when opened)
  std::vector<std::string> bad;  // errors that do not name the file
};

Outcomes read_while_resizing(const std::string& path, off_t full, off_t short_size,
                             const std::function<void()>& read) {
  std::atomic<bool> stop{false};
  std::thread resizer([&] {
    while (!stop.load()) {
      if (::truncate(path.c_str(), short_size) != 0 || ::truncate(path.c_str(), full) != 0) return;
      std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
  });
  std::mutex mutex;
  Outcomes outcomes;
  auto reader = [&] {
    for (int i = 0; i < 60; ++i) {
      try {
        read();
        const std::lock_guard<std::mutex> lock(mutex);
        ++outcomes.ok;
      } catch (const Error& e) {
        const std::string message = e.what();
        const std::lock_guard<std::mutex> lock(mutex);
        if (!contains(message, path)) {
          outcomes.bad.push_back(message);
        } else if (contains(message, "shrank while") || contains(message, "lost part")) {
          ++outcomes.shrank;
        } else if (contains(message, "while it was read")) {
          ++outcomes.changed;
        } else {
          ++outcomes.other;
        }
      }
    }
  };
  std::thread second(reader);
  reader();
  second.join();
  stop = true;
  resizer.join();
  std::cout << "[          ] " << outcomes.ok << " read, " << outcomes.shrank << " shrank while read, "
            << outcomes.changed << " changed otherwise, "
            << outcomes.other << " other errors\n";
  return outcomes;
}

TEST(MappedFile, NpyShrinkingWhileReadIsNeverASignal) {
  ScratchDir dir;
  const std::string path = dir.file("x.npy");
  write_npy(path, testing::numbered({1024, 1024}, DType::f32));  // 4 MiB
  const Outcomes o = read_while_resizing(path, 4 * 1024 * 1024 + 128, 128, [&] { read_npy(path); });
  EXPECT_TRUE(o.bad.empty()) << o.bad.front();
}

TEST(MappedFile, CsvShrinkingWhileReadIsNeverASignal) {
  ScratchDir dir;
  const std::string path = dir.file("series.csv");
  std::string text = "time,value\n";
  for (int i = 0; i < 200000; ++i) text += std::to_string(i) + ",1.5\n";
  std::ofstream(path, std::ios::binary) << text;
  const Outcomes o = read_while_resizing(path, static_cast<off_t>(text.size()), 11,
                                         [&] { train::tasks::read_csv_column(path, "value"); });
  EXPECT_TRUE(o.bad.empty()) << o.bad.front();
}

TEST(MappedFile, CharlmTextShrinkingWhileReadIsNeverASignal) {
  ScratchDir dir;
  const std::string path = dir.file("corpus.txt");
  std::string text;
  while (text.size() < (1u << 20)) text += "the quick brown fox jumps over the lazy dog\n";
  std::ofstream(path, std::ios::binary) << text;
  train::TaskOptions options;
  options.text_path = path;
  const Outcomes o = read_while_resizing(path, static_cast<off_t>(text.size()), 1,
                                         [&] { train::make_task("charlm", options); });
  EXPECT_TRUE(o.bad.empty()) << o.bad.front();
}

// ---- the SIGBUS handler and a host application's own ----------------------------------------
// Each runs in a fresh process (death-test style "threadsafe" re-runs the binary), so the host's
// handler is in place before the library installs its own.
std::atomic<int> host_phase{0};

void host_handler(int, siginfo_t*, void*) { _exit(40 + host_phase.load()); }

void no_core_dump() {
  const struct rlimit none {0, 0};
  ::setrlimit(RLIMIT_CORE, &none);
}

TEST(MappedFileDeathTest, AHostHandlerGetsFaultsOutsideReadersAndNoneInside) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  ScratchDir dir;
  const std::string path = save_two_tensors(dir);
  EXPECT_EXIT(
      {
        no_core_dump();
        struct sigaction host {};
        host.sa_sigaction = host_handler;
        host.sa_flags = SA_SIGINFO;
        sigemptyset(&host.sa_mask);
        ::sigaction(SIGBUS, &host, nullptr);
        host_phase = 1;  // a fault inside a reader's mapping: the host must not see it
        const SafetensorsReader reader(path);
        if (::truncate(path.c_str(), 0) != 0) _exit(93);
        try {
          reader.read("b");
          _exit(94);
        } catch (const Error& e) {
          if (!contains(e.what(), "shrank")) _exit(95);
        }
        host_phase = 2;  // a fault outside: the library passes it on to the host
        fault_outside_any_reader(dir.file("other"));
      },
      ::testing::ExitedWithCode(42), "");
}

TEST(MappedFileDeathTest, WithoutAHostHandlerAFaultOutsideReadersStillKills) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  ScratchDir dir;
  const std::string path = save_two_tensors(dir);
  EXPECT_EXIT(
      {
        no_core_dump();
        const SafetensorsReader reader(path);
        if (::truncate(path.c_str(), 0) != 0) _exit(93);
        try {
          reader.read("b");
        } catch (const Error& e) {
          std::cerr << "reader error: " << e.what() << std::endl;
        }
        fault_outside_any_reader(dir.file("other"));
      },
      ::testing::KilledBySignal(SIGBUS), "reader error: .*shrank while it was read");
}

// ---- a FIFO -----------------------------------------------------------------------------------
// A FIFO with no writer blocked open(2) forever. Each reader refuses it at once; a hang fails the
// test after 10 s (and a writer is then opened so the reader's thread can end).
TEST(MappedFile, FifoIsRefusedAtOnce) {
  ScratchDir dir;
  const std::string fifo = dir.file("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::vector<std::pair<const char*, std::function<void()>>> readers = {
      {"read_npy", [&] { read_npy(fifo); }},
      {"SafetensorsReader", [&] { SafetensorsReader{fifo}; }},
      {"read_csv_column", [&] { train::tasks::read_csv_column(fifo, "value"); }},
  };
  for (const auto& [name, read] : readers) {
    SCOPED_TRACE(name);
    auto done = std::async(std::launch::async, [&, read = read] {
      expect_error(read, ErrorCode::io_error, {"'" + fifo + "': not a regular file"});
    });
    if (done.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      ADD_FAILURE() << name << " still waits for a writer after 10 s";
      const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);  // let it go
      done.wait();
      if (fd >= 0) ::close(fd);
    }
  }
}

}  // namespace
}  // namespace gpurnn::io
