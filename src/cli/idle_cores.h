#pragma once
// How many of the CPUs this process may run on are left idle by other work, measured from
// /proc/stat. `gpurnn train` uses it for the thread count of tasks that default to every core:
// the cpu backend's OpenMP workers spin between the steps' parallel regions, so with a core
// held by another process every region waits for a descheduled worker (charlm, 30 steps with
// one of 2 cores busy: 12-49 s on 2 threads, 3.8 s on 1; bench/results/cpu-vs-onednn-2026-11-26-2.md).

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace gpurnn::cli {

// The idle CPUs among `cpus` between two /proc/stat texts: over those CPUs, the sum of each
// one's idle share (idle + iowait ticks over all ticks between the snapshots). A CPU without a
// line in both, or without ticks between them, counts as idle.
double idle_cpus_between(const std::string& before, const std::string& after, const std::vector<int>& cpus);

// idle_cpus_between for this process's CPUs (its affinity mask), /proc/stat read `window`
// apart while the calling thread sleeps, plus the CPUs the process's own other threads used
// meanwhile (they are not other work), at most the mask's size; nullopt where /proc/stat or
// the mask cannot be read.
std::optional<double> measure_idle_cpus(std::chrono::milliseconds window);

// The cores this process may use (at least 1): its affinity mask, fewer under a cgroup CPU
// quota (detail::usable_cores, core/thread_count.h), so that a container's idle host cores are
// not counted as its own.
int usable_cpus();

// Threads for a run that should use the idle cores: the measured idle CPUs rounded to the
// nearest whole, between 1 and usable_cpus(); usable_cpus() when nothing could be measured.
int idle_core_threads(std::chrono::milliseconds window = std::chrono::milliseconds(200));

}  // namespace gpurnn::cli
