// The pool behind parallel_for (worker_pool.h).
//
// One region at a time, published through `state_`, a 32-bit futex word: even = closed, odd =
// open. A region:
//   caller: wait until no worker is still inside the previous region (active_ == 0), write the
//           job (function, body, count, how many workers may join), state_ += 1 (open), wake
//           parked workers, claim items itself, wait until done_ == count, state_ += 1 (closed).
//   worker: see state_ change to odd, register (active_ += 1), check state_ is unchanged (else
//           the region it saw is over: unregister), claim items while next_ < count, unregister.
// A worker reads the job only while registered in the region it saw, and the caller rewrites
// the job only when nobody is registered, so a late worker never runs another region's items.
// Claims past `count` do nothing, so a worker that arrives after the last item leaves at once.

#include "cpu/worker_pool.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "core/thread_count.h"

namespace gpurnn::cpu {
namespace {

// How long an idle worker spins before it parks, and a waiting caller before it yields.
constexpr std::chrono::microseconds kSpinMicroseconds{50};

thread_local int tl_threads = 0;      // set_parallel_threads (0: every usable core)
thread_local bool tl_inside = false;  // inside an item, or a pool worker: loops run inline

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
}

void futex_wake_all(std::atomic<std::uint32_t>& word) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

// Spins until done() or the spin time is over; true when done() held.
template <class Done>
bool spin_until(const Done& done) {
  const auto until = std::chrono::steady_clock::now() + kSpinMicroseconds;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() >= until) return done();
  }
}

// Spins, then yields the core until done(): a thread it waits for may be waiting for this core.
template <class Done>
void wait_until(const Done& done) {
  if (spin_until(done)) return;
  while (!done()) sched_yield();
}

class Pool {
 public:
  // Runs a region with up to `threads` - 1 workers besides the caller; false (nothing run) when
  // another caller holds the pool.
  bool run(std::int64_t count, int threads, pool_detail::ItemFunction function, const void* body) {
    std::unique_lock<std::mutex> owner(owner_, std::try_to_lock);
    if (!owner.owns_lock()) return false;
    start_workers(threads - 1);
    wait_until([&] { return active_.load(std::memory_order_acquire) == 0; });  // last region's stragglers
    function_ = function;
    body_ = body;
    count_ = count;
    max_workers_ = threads - 1;
    error_ = nullptr;
    failed_.store(false, std::memory_order_relaxed);
    next_.store(0, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    state_.fetch_add(1, std::memory_order_seq_cst);  // open
    if (parked_.load(std::memory_order_seq_cst) > 0) futex_wake_all(state_);
    tl_inside = true;
    claim_items();
    tl_inside = false;
    wait_until([&] { return done_.load(std::memory_order_acquire) == count_; });
    state_.fetch_add(1, std::memory_order_release);  // closed
    regions_.fetch_add(1, std::memory_order_relaxed);
    if (error_) std::rethrow_exception(error_);
    return true;
  }

  PoolCounters counters() const {
    PoolCounters c;
    c.regions = regions_.load(std::memory_order_relaxed);
    c.workers = started_.load(std::memory_order_relaxed);
    return c;
  }

 private:
  void start_workers(int wanted) {
    while (static_cast<int>(workers_.size()) < wanted) {
      const int index = static_cast<int>(workers_.size());
      workers_.emplace_back([this, index] { work(index); });
      started_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  // Items until none is left; each item's failure is kept (the first) and skips the rest.
  void claim_items() {
    for (;;) {
      const std::int64_t item = next_.fetch_add(1, std::memory_order_relaxed);
      if (item >= count_) return;
      if (!failed_.load(std::memory_order_relaxed)) {
        try {
          function_(body_, item);
        } catch (...) {
          const std::lock_guard<std::mutex> lock(error_mutex_);
          if (!error_) error_ = std::current_exception();
          failed_.store(true, std::memory_order_relaxed);
        }
      }
      done_.fetch_add(1, std::memory_order_acq_rel);
    }
  }

  void work(int index) {
#if defined(_OPENMP)
    omp_set_num_threads(1);  // a oneDNN call inside an item stays on this thread
#endif
    tl_inside = true;
    std::uint32_t seen = state_.load(std::memory_order_acquire);
    for (;;) {
      if (!spin_until([&] { return state_.load(std::memory_order_acquire) != seen; })) {
        parked_.fetch_add(1, std::memory_order_seq_cst);
        futex_wait(state_, seen);
        parked_.fetch_sub(1, std::memory_order_relaxed);
      }
      const std::uint32_t now = state_.load(std::memory_order_acquire);
      if (now == seen) continue;  // a spurious wake-up
      seen = now;
      if ((now & 1U) == 0) continue;  // closed already
      active_.fetch_add(1, std::memory_order_seq_cst);
      if (state_.load(std::memory_order_seq_cst) == now && index < max_workers_) claim_items();
      active_.fetch_sub(1, std::memory_order_release);
    }
  }

  std::mutex owner_;
  std::vector<std::thread> workers_;  // never joined: the pool lives as long as the process
  std::atomic<std::uint32_t> state_{0};
  std::atomic<int> active_{0};
  std::atomic<int> parked_{0};
  // The job of the open region (written by its caller while active_ == 0).
  pool_detail::ItemFunction function_ = nullptr;
  const void* body_ = nullptr;
  std::int64_t count_ = 0;
  int max_workers_ = 0;
  std::atomic<std::int64_t> next_{0};
  std::atomic<std::int64_t> done_{0};
  std::atomic<bool> failed_{false};
  std::mutex error_mutex_;
  std::exception_ptr error_;
  std::atomic<std::int64_t> regions_{0};
  std::atomic<int> started_{0};
};

// The process's pool, made on first use and never destroyed (its workers may be parked when
// the process exits). A forked child gets a fresh one: the parent's workers do not exist there.
std::atomic<Pool*> g_pool{nullptr};
std::mutex g_pool_mutex;

void forget_pool_in_child() { g_pool.store(nullptr, std::memory_order_relaxed); }

Pool& pool() {
  Pool* p = g_pool.load(std::memory_order_acquire);
  if (p != nullptr) return *p;
  const std::lock_guard<std::mutex> lock(g_pool_mutex);
  p = g_pool.load(std::memory_order_relaxed);
  if (p == nullptr) {
    static const int registered = pthread_atfork(nullptr, nullptr, forget_pool_in_child);
    (void)registered;
    p = new Pool();  // NOLINT: lives as long as the process (see above)
    g_pool.store(p, std::memory_order_release);
  }
  return *p;
}

}  // namespace

int parallel_threads() { return tl_threads > 0 ? tl_threads : gpurnn::detail::usable_cores(); }

void set_parallel_threads(int n) { tl_threads = n > 0 ? n : 0; }

namespace pool_detail {

void run_items(std::int64_t count, ItemFunction function, const void* body) {
  const int threads = tl_inside ? 1 : static_cast<int>(std::min<std::int64_t>(parallel_threads(), count));
  if (threads > 1 && pool().run(count, threads, function, body)) return;
  const bool was_inside = tl_inside;
  tl_inside = true;
  struct Restore {
    bool value;
    ~Restore() { tl_inside = value; }
  } restore{was_inside};
  for (std::int64_t i = 0; i < count; ++i) function(body, i);
}

}  // namespace pool_detail

PoolCounters pool_counters() {
  Pool* p = g_pool.load(std::memory_order_acquire);
  return p != nullptr ? p->counters() : PoolCounters{};
}

}  // namespace gpurnn::cpu
