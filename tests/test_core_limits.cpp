// The cores a process may use (core/thread_count.h, issue 33): the affinity mask, lowered by the
// cgroup CPU quota of the process's cgroup or any above it, v2 (cpu.max) or v1
// (cpu.cfs_quota_us / cpu.cfs_period_us). Each case writes a cgroup tree into a scratch
// directory and reads it as if it were /sys/fs/cgroup.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/thread_count.h"
#include "test_support.h"

namespace gpurnn::testing {
namespace {

using detail::CoreLimits;
using detail::read_core_limits;

// Writes `text` to `root`/`relative`, creating the directories on the way.
void write(const std::string& root, const std::string& relative, const std::string& text) {
  const std::filesystem::path path = std::filesystem::path(root) / relative;
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// A pure cgroup v2 machine: the process in /app/worker.
const char* const kV2 = "0::/app/worker\n";
// A cgroup v1 machine (cpu and cpuacct co-mounted), with the v2 line of a hybrid one.
const char* const kV1 = "12:pids:/docker/c1\n4:cpu,cpuacct:/docker/c1\n3:cpuset:/docker/c1\n0::/\n";

void expect_no_quota(const CoreLimits& c, int affinity) {
  EXPECT_FALSE(c.quota_cpus.has_value()) << *c.quota_cpus << " from " << c.quota_file;
  EXPECT_EQ(c.quota_version, 0);
  EXPECT_EQ(c.quota_file, "");
  EXPECT_EQ(c.affinity_cores, affinity);
  EXPECT_EQ(c.usable, affinity);
}

TEST(CoreLimits, V2QuotaLimitsTheUsableCores) {
  ScratchDir root;
  write(root.path(), "app/worker/cpu.max", "200000 100000\n");
  const CoreLimits c = read_core_limits(root.path(), kV2, 64);
  ASSERT_TRUE(c.quota_cpus.has_value());
  EXPECT_EQ(*c.quota_cpus, 2.0);
  EXPECT_EQ(c.quota_version, 2);
  EXPECT_EQ(c.quota_file, root.path() + "/app/worker/cpu.max");
  EXPECT_EQ(c.affinity_cores, 64);
  EXPECT_EQ(c.usable, 2);
}

TEST(CoreLimits, FractionalQuotaRoundsUpAndAffinityStillBounds) {
  ScratchDir root;
  write(root.path(), "app/worker/cpu.max", "250000 100000");
  EXPECT_EQ(read_core_limits(root.path(), kV2, 64).usable, 3);  // 2.5 CPUs: 3 cores, each part-time
  EXPECT_EQ(read_core_limits(root.path(), kV2, 2).usable, 2);   // the mask is tighter
  write(root.path(), "app/worker/cpu.max", "10000 100000");
  const CoreLimits tenth = read_core_limits(root.path(), kV2, 8);
  EXPECT_EQ(*tenth.quota_cpus, 0.1);
  EXPECT_EQ(tenth.usable, 1);
}

TEST(CoreLimits, V2MaxIsNoLimit) {
  ScratchDir root;
  write(root.path(), "app/worker/cpu.max", "max 100000\n");
  write(root.path(), "app/cpu.max", "max 100000\n");
  expect_no_quota(read_core_limits(root.path(), kV2, 16), 16);
}

TEST(CoreLimits, V2ParentLimitAppliesAndTheTightestWins) {
  ScratchDir root;
  write(root.path(), "app/worker/cpu.max", "max 100000\n");
  write(root.path(), "app/cpu.max", "150000 100000\n");
  CoreLimits c = read_core_limits(root.path(), kV2, 16);
  EXPECT_EQ(*c.quota_cpus, 1.5);
  EXPECT_EQ(c.quota_file, root.path() + "/app/cpu.max");
  EXPECT_EQ(c.usable, 2);

  write(root.path(), "app/worker/cpu.max", "50000 100000\n");  // the child is tighter now
  c = read_core_limits(root.path(), kV2, 16);
  EXPECT_EQ(*c.quota_cpus, 0.5);
  EXPECT_EQ(c.quota_file, root.path() + "/app/worker/cpu.max");
  EXPECT_EQ(c.usable, 1);

  // A parent's limit applies when the process's own cgroup has no cpu.max at all.
  ScratchDir bare;
  write(bare.path(), "cpu.max", "400000 100000\n");  // the root of a container's namespace
  EXPECT_EQ(read_core_limits(bare.path(), kV2, 16).usable, 4);
}

TEST(CoreLimits, V1QuotaLimitsTheUsableCores) {
  ScratchDir root;
  write(root.path(), "cpu,cpuacct/docker/c1/cpu.cfs_quota_us", "300000\n");
  write(root.path(), "cpu,cpuacct/docker/c1/cpu.cfs_period_us", "100000\n");
  const CoreLimits c = read_core_limits(root.path(), kV1, 32);
  ASSERT_TRUE(c.quota_cpus.has_value());
  EXPECT_EQ(*c.quota_cpus, 3.0);
  EXPECT_EQ(c.quota_version, 1);
  EXPECT_EQ(c.quota_file, root.path() + "/cpu,cpuacct/docker/c1/cpu.cfs_quota_us");
  EXPECT_EQ(c.usable, 3);

  // The cpu controller mounted alone ("N:cpu:/path", /sys/fs/cgroup/cpu).
  ScratchDir alone;
  write(alone.path(), "cpu/job/cpu.cfs_quota_us", "50000\n");
  write(alone.path(), "cpu/job/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(read_core_limits(alone.path(), "2:cpuacct:/job\n1:cpu:/job\n0::/\n", 32).usable, 1);
}

TEST(CoreLimits, V1MinusOneIsNoLimitAndAParentStillApplies) {
  ScratchDir root;
  write(root.path(), "cpu,cpuacct/docker/c1/cpu.cfs_quota_us", "-1\n");
  write(root.path(), "cpu,cpuacct/docker/c1/cpu.cfs_period_us", "100000\n");
  write(root.path(), "cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
  write(root.path(), "cpu,cpuacct/cpu.cfs_period_us", "100000\n");
  expect_no_quota(read_core_limits(root.path(), kV1, 32), 32);

  write(root.path(), "cpu,cpuacct/docker/cpu.cfs_quota_us", "600000\n");
  write(root.path(), "cpu,cpuacct/docker/cpu.cfs_period_us", "100000\n");
  const CoreLimits c = read_core_limits(root.path(), kV1, 32);
  EXPECT_EQ(c.quota_file, root.path() + "/cpu,cpuacct/docker/cpu.cfs_quota_us");
  EXPECT_EQ(c.usable, 6);
}

// A container without a cgroup namespace: /proc/self/cgroup names the host's path, but the
// controller is mounted at the container's own cgroup, so the limit is at the mount's root.
TEST(CoreLimits, V1LimitAtTheMountRootOfAContainer) {
  ScratchDir root;
  write(root.path(), "cpu,cpuacct/cpu.cfs_quota_us", "200000\n");
  write(root.path(), "cpu,cpuacct/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(read_core_limits(root.path(), kV1, 32).usable, 2);
}

TEST(CoreLimits, OnlyTheCpuControllersFilesCount) {
  ScratchDir root;
  // Quota files under controllers other than cpu, or for another cgroup, are not this limit.
  write(root.path(), "cpuset/docker/c1/cpu.cfs_quota_us", "100000\n");
  write(root.path(), "cpuset/docker/c1/cpu.cfs_period_us", "100000\n");
  write(root.path(), "cpu,cpuacct/other/cpu.cfs_quota_us", "100000\n");
  write(root.path(), "cpu,cpuacct/other/cpu.cfs_period_us", "100000\n");
  write(root.path(), "app/other/cpu.max", "100000 100000\n");
  expect_no_quota(read_core_limits(root.path(), kV1, 8), 8);
  expect_no_quota(read_core_limits(root.path(), kV2, 8), 8);
}

TEST(CoreLimits, BothVersionsPresentTheTightestWins) {
  ScratchDir root;
  write(root.path(), "unified/app/worker/cpu.max", "300000 100000\n");  // a hybrid machine's v2 mount
  write(root.path(), "cpu/app/worker/cpu.cfs_quota_us", "200000\n");
  write(root.path(), "cpu/app/worker/cpu.cfs_period_us", "100000\n");
  const CoreLimits c = read_core_limits(root.path(), "1:cpu:/app/worker\n0::/app/worker\n", 8);
  EXPECT_EQ(c.quota_version, 1);
  EXPECT_EQ(c.usable, 2);
  write(root.path(), "unified/app/worker/cpu.max", "100000 100000\n");
  const CoreLimits v2 = read_core_limits(root.path(), "1:cpu:/app/worker\n0::/app/worker\n", 8);
  EXPECT_EQ(v2.quota_version, 2);
  EXPECT_EQ(v2.quota_file, root.path() + "/unified/app/worker/cpu.max");
  EXPECT_EQ(v2.usable, 1);
}

TEST(CoreLimits, MalformedFilesAreNoLimit) {
  for (const std::string bad : {"", "\n", "200000", "200000 100000 7", "abc 100000", "200000 abc", "2e5 100000",
                                "200000 0", "0 100000", "-5 100000", "200000 -100000", " 99999999999999999999 1",
                                "200000x 100000", "max"}) {
    ScratchDir root;
    write(root.path(), "app/worker/cpu.max", bad);
    expect_no_quota(read_core_limits(root.path(), kV2, 4), 4);
  }
  for (const auto& [quota, period] : std::initializer_list<std::pair<std::string, std::string>>{
           {"", "100000"}, {"12x", "100000"}, {"max", "100000"}, {"-2", "100000"}, {"0", "100000"},
           {"200000", "0"}, {"200000", ""}, {"200000", "1 2"}, {"200000 1", "100000"}}) {
    ScratchDir root;
    write(root.path(), "cpu,cpuacct/docker/c1/cpu.cfs_quota_us", quota);
    write(root.path(), "cpu,cpuacct/docker/c1/cpu.cfs_period_us", period);
    expect_no_quota(read_core_limits(root.path(), kV1, 4), 4);
  }
  // A malformed file below a good parent: the parent's limit still applies.
  ScratchDir root;
  write(root.path(), "app/worker/cpu.max", "garbage");
  write(root.path(), "app/cpu.max", "100000 100000");
  EXPECT_EQ(read_core_limits(root.path(), kV2, 4).usable, 1);
}

TEST(CoreLimits, MissingFilesOrUnreadableCgroupTextAreNoLimit) {
  ScratchDir root;
  expect_no_quota(read_core_limits(root.path(), kV2, 6), 6);
  expect_no_quota(read_core_limits(root.path(), kV1, 6), 6);
  expect_no_quota(read_core_limits(root.path() + "/nonexistent", kV2, 6), 6);
  write(root.path(), "cpu.max", "100000 100000");
  write(root.path(), "cpu/cpu.cfs_quota_us", "100000");
  write(root.path(), "cpu/cpu.cfs_period_us", "100000");
  // Without a line naming the process's cgroup, nothing is read.
  for (const std::string text : {"", "garbage", "0:/app\n", "1:cpu:relative/path\n", "1:cpuacct:/\n2:cpuset:/\n",
                                 "0::/../../etc\n"}) {
    expect_no_quota(read_core_limits(root.path(), text, 6), 6);
  }
  // A cgroup directory whose cpu.max is a directory, not a file.
  ScratchDir odd;
  std::filesystem::create_directories(odd.path() + "/app/worker/cpu.max");
  expect_no_quota(read_core_limits(odd.path(), kV2, 6), 6);
  // The mask is at least one CPU.
  EXPECT_EQ(read_core_limits(root.path(), "", 0).usable, 1);
}

// This process: read once, between 1 and the mask, and what check_thread_count bounds by.
TEST(CoreLimits, ThisProcessIsBoundedByItsMask) {
  const CoreLimits& c = detail::core_limits();
  EXPECT_GE(c.usable, 1);
  EXPECT_LE(c.usable, c.affinity_cores);
  EXPECT_EQ(detail::usable_cores(), c.usable);
  EXPECT_EQ(&detail::core_limits(), &c);
  EXPECT_EQ(detail::max_thread_count(), detail::kThreadsPerCore * c.usable);
  EXPECT_EQ(c.quota_cpus.has_value(), !c.quota_file.empty());
}

}  // namespace
}  // namespace gpurnn::testing
