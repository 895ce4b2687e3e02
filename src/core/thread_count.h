#pragma once
// The cores this process may use, and the bound on a requested CPU thread count. Asking for far
// more threads than cores only costs: each OpenMP worker has its own stack, and 100,000 of them
// crashed libgomp (issue 22), 20,000 took minutes and 4 GB. A count above kThreadsPerCore
// threads per usable core is refused.
//
// Usable cores (issue 33): the CPUs of the affinity mask, fewer when the process's cgroup (or
// one above it) has a CPU bandwidth quota. A container given 2 CPUs on a 64-core host sees 64
// CPUs in its mask, but the kernel lets it run only 2 CPUs' worth per period: 64 workers would
// be throttled in turn, and every parallel region would wait for a descheduled one.

#include <optional>
#include <string>

namespace gpurnn::detail {

constexpr int kThreadsPerCore = 4;

// What limits the cores a process may use.
struct CoreLimits {
  int affinity_cores = 1;           // CPUs in the affinity mask
  std::optional<double> quota_cpus;  // the tightest cgroup CPU quota (quota / period), none: no limit
  int quota_version = 0;            // 1 or 2: the cgroup version of quota_file; 0 without a quota
  std::string quota_file;           // the file the quota came from ("" without one)
  int usable = 1;                   // min(affinity_cores, ceil(quota_cpus)), at least 1
};

// The limits found under `cgroup_root` (normally /sys/fs/cgroup) for a process whose
// /proc/self/cgroup reads `proc_self_cgroup_text` and whose affinity mask holds
// `affinity_cores` CPUs (below 1 counts as 1). Reads, for the process's cgroup and every cgroup
// above it (each one's limit applies too), cgroup v2's cpu.max ("max <period>": none, or
// "<quota> <period>") under cgroup_root and cgroup_root/unified, from the "0::<path>" line; and
// cgroup v1's cpu.cfs_quota_us / cpu.cfs_period_us (quota -1: none) under cgroup_root/cpu,cpuacct,
// cgroup_root/cpuacct,cpu and cgroup_root/cpu, from the line whose controllers include "cpu".
// The smallest quota wins. A missing, unreadable or malformed file means no limit from that
// file. Never throws for anything read.
CoreLimits read_core_limits(const std::string& cgroup_root, const std::string& proc_self_cgroup_text,
                            int affinity_cores);

// This process's limits: its affinity mask and read_core_limits("/sys/fs/cgroup",
// /proc/self/cgroup), read once on the first call (later changes are not seen). Never throws.
const CoreLimits& core_limits();
// core_limits().usable: the cores this process may use (at least 1).
int usable_cores();
// kThreadsPerCore * usable_cores().
int max_thread_count();

// Error(invalid_argument) from `where` naming `arg` unless 0 <= threads <= max_thread_count()
// (0: the default).
void check_thread_count(int threads, const char* where, const char* arg);

}  // namespace gpurnn::detail
