#include "core/thread_count.h"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "gpurnn/error.h"

namespace gpurnn::detail {
namespace {

// The first bytes of a small file (the cgroup files are a line each), or nullopt when it cannot
// be opened or read.
std::optional<std::string> read_small_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  char buffer[256];
  in.read(buffer, sizeof buffer);
  if (in.bad()) return std::nullopt;
  return std::string(buffer, static_cast<std::size_t>(in.gcount()));
}

// The whitespace-separated words of `text`.
std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// `word` as a whole decimal integer (an optional '-', then digits), or nullopt.
std::optional<std::int64_t> integer(const std::string& word) {
  std::int64_t value = 0;
  const char* end = word.data() + word.size();
  const auto [at, ec] = std::from_chars(word.data(), end, value);
  if (ec != std::errc() || at != end || word.empty()) return std::nullopt;
  return value;
}

struct Quota {
  std::int64_t quota = 0, period = 0;  // both positive
  double cpus() const { return static_cast<double>(quota) / static_cast<double>(period); }
  // ceil(quota / period) without rounding: at least 1 since quota > 0.
  std::int64_t whole_cpus() const { return quota / period + (quota % period != 0 ? 1 : 0); }
};

// A quota and a period given as words: a limit when both are positive decimal integers.
std::optional<Quota> positive_quota(const std::string& quota_word, const std::string& period_word) {
  const std::optional<std::int64_t> quota = integer(quota_word), period = integer(period_word);
  if (!quota || !period || *quota <= 0 || *period <= 0) return std::nullopt;
  return Quota{*quota, *period};
}

// cgroup v2 cpu.max: "<quota> <period>" is a limit; "max <period>", or anything malformed, none.
std::optional<Quota> read_cpu_max(const std::string& dir) {
  const std::optional<std::string> text = read_small_file(dir + "/cpu.max");
  if (!text) return std::nullopt;
  const std::vector<std::string> w = words(*text);
  if (w.size() != 2) return std::nullopt;
  return positive_quota(w[0], w[1]);
}

// cgroup v1 cpu.cfs_quota_us and cpu.cfs_period_us: a positive quota and period are a limit;
// quota -1, a missing file, or anything malformed, none.
std::optional<Quota> read_cfs_quota(const std::string& dir) {
  const std::optional<std::string> quota_text = read_small_file(dir + "/cpu.cfs_quota_us");
  const std::optional<std::string> period_text = read_small_file(dir + "/cpu.cfs_period_us");
  if (!quota_text || !period_text) return std::nullopt;
  const std::vector<std::string> q = words(*quota_text), p = words(*period_text);
  if (q.size() != 1 || p.size() != 1) return std::nullopt;
  return positive_quota(q[0], p[0]);
}

// The cgroup paths of /proc/self/cgroup: the v2 one ("0::<path>") and the v1 cpu controller's
// ("<id>:<controllers>:<path>" with "cpu" among the comma-separated controllers). Empty when
// absent; a path must start with '/'.
struct CgroupPaths {
  std::string v2, v1_cpu;
};

CgroupPaths cgroup_paths(const std::string& proc_self_cgroup_text) {
  CgroupPaths out;
  std::istringstream lines(proc_self_cgroup_text);
  for (std::string line; std::getline(lines, line);) {
    const std::size_t first = line.find(':');
    const std::size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string id = line.substr(0, first), controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (path.empty() || path[0] != '/') continue;
    if (id == "0" && controllers.empty()) {
      out.v2 = path;
      continue;
    }
    std::istringstream names(controllers);
    for (std::string name; std::getline(names, name, ',');) {
      if (name == "cpu") out.v1_cpu = path;
    }
  }
  return out;
}

// `path` ("/a/b") and every cgroup above it, deepest first: "/a/b", "/a", "". Empty for a path
// that names a parent directory (".."), which a kernel never writes.
std::vector<std::string> self_and_parents(std::string path) {
  std::vector<std::string> out;
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (("/" + path + "/").find("/../") != std::string::npos) return out;
  for (;;) {
    out.push_back(path);
    if (path.empty()) return out;
    path.erase(path.rfind('/'));
  }
}

// Lowers `limits` to the quota of `file` when it is tighter.
void apply(CoreLimits& limits, const std::optional<Quota>& quota, int version, const std::string& file,
           std::int64_t& whole_cpus) {
  if (!quota || (limits.quota_cpus && quota->cpus() >= *limits.quota_cpus)) return;
  limits.quota_cpus = quota->cpus();
  limits.quota_version = version;
  limits.quota_file = file;
  whole_cpus = quota->whole_cpus();
}

int affinity_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

}  // namespace

CoreLimits read_core_limits(const std::string& cgroup_root, const std::string& proc_self_cgroup_text,
                            int affinity) {
  CoreLimits limits;
  limits.affinity_cores = std::max(1, affinity);
  std::int64_t whole_cpus = limits.affinity_cores;
  const CgroupPaths paths = cgroup_paths(proc_self_cgroup_text);
  if (!paths.v2.empty()) {
    for (const std::string& mount : {cgroup_root, cgroup_root + "/unified"}) {
      for (const std::string& cgroup : self_and_parents(paths.v2)) {
        const std::string dir = mount + cgroup;
        apply(limits, read_cpu_max(dir), 2, dir + "/cpu.max", whole_cpus);
      }
    }
  }
  if (!paths.v1_cpu.empty()) {
    for (const char* controller : {"/cpu,cpuacct", "/cpuacct,cpu", "/cpu"}) {
      for (const std::string& cgroup : self_and_parents(paths.v1_cpu)) {
        const std::string dir = cgroup_root + controller + cgroup;
        apply(limits, read_cfs_quota(dir), 1, dir + "/cpu.cfs_quota_us", whole_cpus);
      }
    }
  }
  limits.usable = static_cast<int>(std::clamp<std::int64_t>(whole_cpus, 1, limits.affinity_cores));
  return limits;
}

const CoreLimits& core_limits() {
  static const CoreLimits limits = [] {
    const int affinity = affinity_cores();
    try {
      std::ostringstream text;
      std::ifstream in("/proc/self/cgroup");
      if (in) text << in.rdbuf();
      return read_core_limits("/sys/fs/cgroup", text.str(), affinity);
    } catch (...) {  // out of memory while reading: the mask alone
      CoreLimits mask_only;
      mask_only.affinity_cores = mask_only.usable = affinity;
      return mask_only;
    }
  }();
  return limits;
}

int usable_cores() { return core_limits().usable; }

int max_thread_count() { return kThreadsPerCore * usable_cores(); }

void check_thread_count(int threads, const char* where, const char* arg) {
  const int cores = usable_cores();
  const int limit = kThreadsPerCore * cores;
  check_argument(threads >= 0 && threads <= limit, where, arg, [&] {
    return "must be 0 (the default: every core) or a count up to " + std::to_string(limit) + " (" +
           std::to_string(kThreadsPerCore) + " per usable core; this process may use " + std::to_string(cores) +
           "), got " + std::to_string(threads);
  });
}

}  // namespace gpurnn::detail
