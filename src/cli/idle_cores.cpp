#include "cli/idle_cores.h"

#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "core/thread_count.h"

namespace gpurnn::cli {
namespace {

struct Ticks {
  double idle = 0.0;   // idle + iowait
  double total = 0.0;  // user nice system idle iowait irq softirq steal (guest time is in user)
};

// The per-CPU lines ("cpuN ...") of a /proc/stat text.
std::map<int, Ticks> per_cpu_ticks(const std::string& text) {
  std::map<int, Ticks> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("cpu", 0) != 0 || line.size() < 4 || line[3] < '0' || line[3] > '9') continue;
    std::istringstream fields(line.substr(3));
    int cpu = 0;
    fields >> cpu;
    Ticks t;
    double value = 0.0;
    for (int field = 0; field < 8 && fields >> value; ++field) {
      t.total += value;
      if (field == 3 || field == 4) t.idle += value;
    }
    out[cpu] = t;
  }
  return out;
}

std::optional<std::string> read_proc_stat() {
  std::ifstream in("/proc/stat");
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// CPU time of every thread of this process so far.
double own_cpu_seconds() {
  timespec t{};
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t) != 0) return 0.0;
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

std::vector<int> affinity_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

}  // namespace

double idle_cpus_between(const std::string& before, const std::string& after, const std::vector<int>& cpus) {
  const std::map<int, Ticks> a = per_cpu_ticks(before), b = per_cpu_ticks(after);
  double idle = 0.0;
  for (const int cpu : cpus) {
    const auto x = a.find(cpu), y = b.find(cpu);
    const double total = x != a.end() && y != b.end() ? y->second.total - x->second.total : 0.0;
    idle += total > 0.0 ? std::clamp((y->second.idle - x->second.idle) / total, 0.0, 1.0) : 1.0;
  }
  return idle;
}

std::optional<double> measure_idle_cpus(std::chrono::milliseconds window) {
  const std::vector<int> cpus = affinity_cpus();
  const auto wall_before = std::chrono::steady_clock::now();
  const double own_before = own_cpu_seconds();
  const std::optional<std::string> before = read_proc_stat();
  if (cpus.empty() || !before) return std::nullopt;
  std::this_thread::sleep_for(window);
  const std::optional<std::string> after = read_proc_stat();
  if (!after) return std::nullopt;
  // CPUs this process's own threads kept busy meanwhile (library threads starting up: measured
  // at 0.55 of a CPU over the 0.2 s at the start of `gpurnn train`) are not other work.
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
  const double own = wall > 0.0 ? (own_cpu_seconds() - own_before) / wall : 0.0;
  return std::min(idle_cpus_between(*before, *after, cpus) + own, static_cast<double>(cpus.size()));
}

int usable_cpus() { return detail::usable_cores(); }

int idle_core_threads(std::chrono::milliseconds window) {
  const int usable = usable_cpus();
  const std::optional<double> idle = measure_idle_cpus(window);
  if (!idle) return usable;
  return std::clamp(static_cast<int>(std::lround(*idle)), 1, usable);
}

}  // namespace gpurnn::cli
