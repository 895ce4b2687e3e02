#pragma once
// What the libFuzzer targets share: a broken invariant traps (libFuzzer keeps the input), and an
// input that the code under test reads from a path is written to a file of this process's own.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "gpurnn/error.h"

namespace gpurnn::fuzz {

// An input refused with `error`, the expected outcome for a bad one; with GPURNN_FUZZ_VERBOSE set
// the message is printed (to see why a seed does not get further).
inline int refused(const Error& error) {
  static const bool verbose = std::getenv("GPURNN_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "refused: %s\n", error.what());
  return 0;
}

inline void check(bool condition) {
  if (!condition) __builtin_trap();
}

// `size` bytes at `data` as the file <TMPDIR or /tmp>/gpurnn-fuzz-<pid><suffix>, rewritten on each
// call (the readers under test map it, so it is a regular file like a user's).
inline std::string input_file(const std::uint8_t* data, std::size_t size, const char* suffix) {
  static const std::string path = [&] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/gpurnn-fuzz-" + std::to_string(::getpid()) + suffix;
  }();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  check(f != nullptr);
  check(size == 0 || std::fwrite(data, 1, size, f) == size);
  check(std::fclose(f) == 0);
  return path;
}

}  // namespace gpurnn::fuzz
