// The idle-core count `gpurnn train` sizes charlm's threads by (src/cli/idle_cores.h): parsed
// from two /proc/stat snapshots, over the CPUs of the affinity mask only.

#include <gtest/gtest.h>

#include <string>

#include "cli/idle_cores.h"

namespace gpurnn::testing {
namespace {

// A /proc/stat text: the aggregate line, then cpu0 and cpu1 with the given user and idle ticks
// (nice, system, iowait, irq, softirq, steal fixed), then lines that are not per-CPU.
std::string stat_text(long user0, long idle0, long user1, long idle1) {
  auto cpu = [](const std::string& name, long user, long idle) {
    return name + " " + std::to_string(user) + " 0 10 " + std::to_string(idle) + " 5 0 0 0 0 0\n";
  };
  return cpu("cpu ", user0 + user1, idle0 + idle1) + cpu("cpu0", user0, idle0) + cpu("cpu1", user1, idle1) +
         "intr 123 4 5\nctxt 999\ncpufreq 1\n";
}

TEST(IdleCores, CountsTheIdleShareOfEachCpu) {
  const std::string before = stat_text(1000, 5000, 2000, 4000);
  // cpu0 idle throughout, cpu1 busy throughout (100 ticks each).
  const std::string one_busy = stat_text(1000, 5100, 2100, 4000);
  EXPECT_NEAR(cli::idle_cpus_between(before, one_busy, {0, 1}), 1.0, 1e-12);
  // Both idle; both three-quarters busy.
  EXPECT_NEAR(cli::idle_cpus_between(before, stat_text(1000, 5100, 2000, 4100), {0, 1}), 2.0, 1e-12);
  EXPECT_NEAR(cli::idle_cpus_between(before, stat_text(1075, 5025, 2075, 4025), {0, 1}), 0.5, 1e-12);
  // Only the CPUs asked about count: cpu1 alone is busy.
  EXPECT_NEAR(cli::idle_cpus_between(before, one_busy, {1}), 0.0, 1e-12);
  EXPECT_NEAR(cli::idle_cpus_between(before, one_busy, {0}), 1.0, 1e-12);
}

TEST(IdleCores, MissingCpusOrNoTicksCountAsIdle) {
  const std::string before = stat_text(1000, 5000, 2000, 4000);
  EXPECT_NEAR(cli::idle_cpus_between(before, before, {0, 1}), 2.0, 1e-12);
  EXPECT_NEAR(cli::idle_cpus_between(before, stat_text(1000, 5000, 2100, 4000), {1, 7}), 1.0, 1e-12);
  EXPECT_NEAR(cli::idle_cpus_between("", "garbage\ncpuX 1 2\n", {0}), 1.0, 1e-12);
}

TEST(IdleCores, ThreadCountIsBetweenOneAndTheUsableCpus) {
  const int threads = cli::idle_core_threads(std::chrono::milliseconds(20));
  EXPECT_GE(threads, 1);
  EXPECT_LE(threads, cli::usable_cpus());
}

}  // namespace
}  // namespace gpurnn::testing
