#pragma once
// The bound on a requested CPU thread count. Asking for far more threads than cores only costs:
// each OpenMP worker has its own stack, and 100,000 of them crashed libgomp (issue 22), 20,000
// took minutes and 4 GB. A count above kThreadsPerCore threads per usable core is refused.

namespace gpurnn::detail {

constexpr int kThreadsPerCore = 4;

// Cores this process may run on (its affinity mask; at least 1).
int usable_cores();
// kThreadsPerCore * usable_cores().
int max_thread_count();

// Error(invalid_argument) from `where` naming `arg` unless 0 <= threads <= max_thread_count()
// (0: the default).
void check_thread_count(int threads, const char* where, const char* arg);

}  // namespace gpurnn::detail
