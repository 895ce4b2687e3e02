#include "core/thread_count.h"

#include <sched.h>

#include <string>
#include <thread>

#include "gpurnn/error.h"

namespace gpurnn::detail {

int usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

int max_thread_count() { return kThreadsPerCore * usable_cores(); }

void check_thread_count(int threads, const char* where, const char* arg) {
  const int cores = usable_cores();
  const int limit = kThreadsPerCore * cores;
  check_argument(threads >= 0 && threads <= limit, where, arg,
                 "must be 0 (the default: every core) or a count up to " + std::to_string(limit) + " (" +
                     std::to_string(kThreadsPerCore) + " per usable core; this process may use " +
                     std::to_string(cores) + "), got " + std::to_string(threads));
}

}  // namespace gpurnn::detail
