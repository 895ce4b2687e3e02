#pragma once
// The cpu backend's own threads (issue 33: no cliff on a busy machine). Every parallel loop of
// the backend (the GEMM chunks, the batch-1 GEMV blocks, the cell rows) runs through
// parallel_for, on the calling thread and the workers of one process-wide pool:
//
// - Items are claimed one at a time from a shared counter, by whichever thread is free. The
//   caller works too, and a region ends when every item is done, not when every worker has
//   arrived: a worker the kernel has descheduled (another process took its core) claims
//   nothing, and the others do its share. OpenMP's static schedule waited at every time step's
//   barrier for such a peer, a scheduler time slice each time (5-15x slower, issue 33).
// - Idle workers spin briefly (kSpinMicroseconds) for the next region, then park on a futex. A
//   worker that parks wakes with the scheduler's wake-up preference, so on a busy core it gets
//   in quickly when there is work, and burns nothing when there is none; on idle cores the
//   spin catches the next time step's region without a system call.
// - The items of a region are fixed by the caller (chunks of a fixed size, never "one per
//   thread"), so results do not depend on the number of threads, nor on which thread ran what.
// - One region at a time: a second thread calling while the pool is busy runs its items alone
//   (many callers share the cores rather than oversubscribe them). Measured with 4 callers of one
//   model on 2 cores (gpurnn_bench callers/ rows): 0.90-1.17x one caller's throughput, within
//   the run-to-run noise of 1.0; letting callers meet wait for a while was no better.
//
// Thread counts are per calling thread (set_parallel_threads; the cpu backend sets its
// BackendOptions::num_threads before each call): n threads = the caller and n - 1 workers.
// Inside an item, parallel_for runs inline (no nesting). oneDNN's OpenMP is held to one thread
// in the workers, so a oneDNN call inside an item never starts a team of its own.

#include <cstdint>
#include <exception>

namespace gpurnn::cpu {

// Threads the calling thread's parallel loops use (>= 1): set_parallel_threads' value, or
// every usable core (core/thread_count.h) when it was never set or set to 0.
int parallel_threads();
// n <= 0: the default (every usable core).
void set_parallel_threads(int n);

namespace pool_detail {
using ItemFunction = void (*)(const void* body, std::int64_t item);
void run_items(std::int64_t count, ItemFunction function, const void* body);
}  // namespace pool_detail

// body(i) for every i in [0, count), on parallel_threads() threads at most (see above); returns
// when all are done. An exception thrown by an item is rethrown here (the first one; items not
// yet started are skipped).
template <class Body>
void parallel_for(std::int64_t count, const Body& body) {
  if (count <= 0) return;
  pool_detail::run_items(
      count, [](const void* b, std::int64_t i) { (*static_cast<const Body*>(b))(i); }, &body);
}

// What the pool has done in this process (for tests).
struct PoolCounters {
  std::int64_t regions = 0;  // parallel_for calls that used workers
  int workers = 0;           // worker threads started
};
PoolCounters pool_counters();

}  // namespace gpurnn::cpu
