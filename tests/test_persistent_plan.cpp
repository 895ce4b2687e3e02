// The persistent LSTM kernel's launch plan (engine/persistent_plan.h) over the published
// property sets of H100, A100, L4 and T4: every limit respected, every hidden unit owned by one
// CTA, the shared memory the kernel's layout needs, and a refusal that names the limit when it
// does not fit.

#include <gtest/gtest.h>

#include "engine/persistent_plan.h"
#include "persistent_devices.h"
#include "persistent_lstm_map.h"
#include "test_support.h"

namespace gpurnn::testing {
namespace {

using engine::DeviceLimits;
using engine::PersistentPlan;
using engine::PersistentProblem;

PersistentPlan plan_for(const DeviceLimits& dev, std::int64_t H, std::int64_t B, std::size_t elem = 4) {
  return engine::plan_persistent_lstm(PersistentProblem{CellKind::lstm, H, B, 0, elem}, dev);
}

const DeviceLimits& device_named(const char* prefix) {
  static const std::vector<DeviceLimits> devices = published_devices();
  for (const DeviceLimits& d : devices) {
    if (d.name.rfind(prefix, 0) == 0) return d;
  }
  throw std::runtime_error(prefix);
}

TEST(PersistentPlan, RespectsEveryLimitOnPublishedDevices) {
  int fitted = 0, refused = 0;
  for (const DeviceLimits& dev : published_devices()) {
    for (std::int64_t H : {1, 7, 65, 256, 512, 1024, 1536, 2048}) {
      for (std::int64_t B : {1, 2, 3, 32, 128, 1000}) {
        for (std::size_t elem : {std::size_t{4}, std::size_t{8}}) {
          SCOPED_TRACE(dev.name + " H=" + std::to_string(H) + " B=" + std::to_string(B) + " elem=" + std::to_string(elem));
          const PersistentPlan p = plan_for(dev, H, B, elem);
          if (!p.fits) {
            ++refused;
            EXPECT_NE(p.why_not.find(dev.name), std::string::npos) << p.why_not;
            EXPECT_NE(p.why_not.find("shared memory"), std::string::npos) << p.why_not;
            continue;
          }
          ++fitted;
          EXPECT_TRUE(p.why_not.empty());
          // One CTA per SM at most, each owning at least one unit, together all H.
          EXPECT_EQ(p.units_per_cta, (H + dev.sm_count - 1) / dev.sm_count);
          EXPECT_GE(p.ctas, 1);
          EXPECT_LE(p.ctas, dev.sm_count);
          EXPECT_GE(static_cast<std::int64_t>(p.ctas) * p.units_per_cta, H);
          EXPECT_LT(static_cast<std::int64_t>(p.ctas - 1) * p.units_per_cta, H);
          // Threads: whole warps, within the kernel's launch bounds and the device's.
          EXPECT_EQ(p.threads % 32, 0);
          EXPECT_GE(p.threads, 32);
          EXPECT_LE(p.threads, engine::kPersistentMaxThreads);
          EXPECT_LE(p.threads, dev.max_threads_per_block);
          EXPECT_GT(p.registers_per_thread, 0);
          EXPECT_LE(p.registers_per_thread, 255);
          EXPECT_LE(static_cast<std::int64_t>(p.registers_per_thread) * p.threads, dev.registers_per_block);
          // Batch tile and chunk: whole tiles, no more than the batch needs, as many as fit.
          EXPECT_EQ(p.batch_tile, engine::persistent_batch_tile(B));
          EXPECT_EQ(p.batch_chunk % p.batch_tile, 0);
          EXPECT_GE(p.batch_chunk, p.batch_tile);
          const std::int64_t whole = (B + p.batch_tile - 1) / p.batch_tile * p.batch_tile;
          EXPECT_LE(p.batch_chunk, whole);
          // Shared memory: exactly the kernel's layout, within the opt-in limit.
          const auto layout = static_cast<std::size_t>(
              engine::persistent_shared_elements(H, p.units_per_cta, B, p.batch_chunk)) * elem;
          EXPECT_EQ(p.shared_bytes, layout);
          EXPECT_LE(p.shared_bytes, dev.shared_per_block_optin);
          if (p.batch_chunk < whole) {  // a larger chunk would not have fit
            const auto bigger = static_cast<std::size_t>(engine::persistent_shared_elements(
                                    H, p.units_per_cta, B, p.batch_chunk + p.batch_tile)) * elem;
            EXPECT_GT(bigger, dev.shared_per_block_optin);
          }
          // Every hidden unit owned by exactly one CTA (the kernel's cta_units).
          kernels::PersistentGeometry g{static_cast<int>(H), static_cast<int>(B), 1, false,
                                        p.units_per_cta, p.batch_tile, p.batch_chunk};
          std::vector<int> owner(static_cast<std::size_t>(H), 0);
          for (int cta = 0; cta < p.ctas; ++cta) {
            const kernels::Range u = kernels::cta_units(g, cta);
            ASSERT_GE(u.count, 1);
            for (int j = u.first; j < u.first + u.count; ++j) ++owner[static_cast<std::size_t>(j)];
          }
          for (int n : owner) ASSERT_EQ(n, 1);
        }
      }
    }
  }
  EXPECT_GT(fitted, 100);  // both outcomes are exercised
  EXPECT_GT(refused, 20);
}

TEST(PersistentPlan, CapacityOfTheDesignNotes) {
  // H100, f32: H=1024 -> U=8 on 128 CTAs, 128 KiB of weights; B=32 stages h in chunks of 24.
  const PersistentPlan h100 = plan_for(device_named("H100"), 1024, 32);
  ASSERT_TRUE(h100.fits) << h100.why_not;
  EXPECT_EQ(h100.units_per_cta, 8);
  EXPECT_EQ(h100.ctas, 128);
  EXPECT_EQ(h100.batch_chunk, 24);
  EXPECT_EQ(h100.threads, 256);
  const PersistentPlan h512 = plan_for(device_named("H100"), 512, 1);
  ASSERT_TRUE(h512.fits);
  EXPECT_EQ(h512.units_per_cta, 4);
  EXPECT_EQ(h512.ctas, 128);
  EXPECT_EQ(h512.batch_chunk, 1);
  EXPECT_EQ(h512.threads, 128);  // 4 units x 1 tile = 4 warp items
  // H=1536: 288 KiB of f32 weights per CTA, more than 227 KiB: refused (shared memory only).
  EXPECT_FALSE(plan_for(device_named("H100"), 1536, 1).fits);
  EXPECT_FALSE(plan_for(device_named("H100"), 2048, 1).fits);
  // A100 at H=1024: U=10, 160 KiB of weights + 4 KiB of h > 163 KiB.
  EXPECT_FALSE(plan_for(device_named("A100"), 1024, 1).fits);
  EXPECT_TRUE(plan_for(device_named("A100"), 512, 32).fits);
  // T4: 64 KiB per block; H=512 needs U=13 -> 104 KiB of weights.
  EXPECT_FALSE(plan_for(device_named("T4"), 512, 1).fits);
  EXPECT_TRUE(plan_for(device_named("T4"), 256, 32).fits);
  // f64 halves what fits.
  EXPECT_TRUE(plan_for(device_named("H100"), 1024, 1, 4).fits);
  EXPECT_FALSE(plan_for(device_named("H100"), 1024, 1, 8).fits);
}

TEST(PersistentPlan, RefusesWhatTheKernelDoesNotRun) {
  const DeviceLimits& h100 = device_named("H100");
  const PersistentPlan gru = engine::plan_persistent_lstm({CellKind::gru, 256, 1, 0, 4}, h100);
  EXPECT_FALSE(gru.fits);
  EXPECT_NE(gru.why_not.find("gru"), std::string::npos) << gru.why_not;
  const PersistentPlan proj = engine::plan_persistent_lstm({CellKind::lstm, 256, 1, 64, 4}, h100);
  EXPECT_FALSE(proj.fits);
  EXPECT_NE(proj.why_not.find("projection"), std::string::npos) << proj.why_not;
  DeviceLimits no_coop = h100;
  no_coop.cooperative_launch = false;
  const PersistentPlan coop = plan_for(no_coop, 256, 1);
  EXPECT_FALSE(coop.fits);
  EXPECT_NE(coop.why_not.find("cooperative"), std::string::npos) << coop.why_not;
  const PersistentPlan f16 = engine::plan_persistent_lstm({CellKind::lstm, 256, 1, 0, 2}, h100);
  EXPECT_FALSE(f16.fits);
}

TEST(PersistentPlan, AutoPrefersPersistentWhenItFitsAtSmallBatch) {
  const DeviceLimits& h100 = device_named("H100");
  EXPECT_TRUE(engine::auto_prefers_persistent(plan_for(h100, 512, 1), 512, 1));
  EXPECT_TRUE(engine::auto_prefers_persistent(plan_for(h100, 512, 32), 512, 32));
  EXPECT_FALSE(engine::auto_prefers_persistent(plan_for(h100, 512, 128), 512, 128));
  EXPECT_FALSE(engine::auto_prefers_persistent(plan_for(h100, 2048, 1), 2048, 1));
}

// The crossover table: rows in increasing max_hidden, the last covering every H, each batch
// bound positive; a hidden size takes the first row that covers it.
TEST(PersistentPlan, AutoCrossoverTableCoversEveryHiddenSize) {
  std::int64_t previous = 0;
  for (const engine::AutoCrossover& row : engine::kAutoCrossover) {
    EXPECT_GT(row.max_hidden, previous);
    EXPECT_GT(row.max_batch, 0);
    previous = row.max_hidden;
  }
  EXPECT_EQ(previous, INT64_MAX);
  for (std::int64_t h : {1, 255, 256, 257, 1024, 1025, 1 << 20}) {
    std::int64_t want = 0;
    for (const engine::AutoCrossover& row : engine::kAutoCrossover) {
      if (h <= row.max_hidden) {
        want = row.max_batch;
        break;
      }
    }
    EXPECT_EQ(engine::auto_persistent_max_batch(h), want) << "H " << h;
  }
}

// The plan of each direction of a paired launch: both directions' CTAs fit the device at one
// per SM, and it is the one-direction plan on half the SMs (H 512 on an H100: U 8, 64 CTAs each).
TEST(PersistentPlan, PairedDirectionsShareTheSms) {
  for (const DeviceLimits& dev : published_devices()) {
    for (std::int64_t H : {1, 7, 65, 256, 512, 1024}) {
      for (std::int64_t B : {1, 3, 32}) {
        SCOPED_TRACE(dev.name + " H=" + std::to_string(H) + " B=" + std::to_string(B));
        const PersistentProblem problem{CellKind::lstm, H, B, 0, 4};
        const PersistentPlan pair = engine::plan_persistent_lstm_pair(problem, dev);
        DeviceLimits half = dev;
        half.sm_count /= 2;
        const PersistentPlan expected = engine::plan_persistent_lstm(problem, half);
        ASSERT_EQ(pair.fits, expected.fits);
        if (!pair.fits) continue;
        EXPECT_EQ(pair.ctas, expected.ctas);
        EXPECT_EQ(pair.units_per_cta, expected.units_per_cta);
        EXPECT_LE(2 * pair.ctas, dev.sm_count);
      }
    }
  }
  EXPECT_EQ(engine::plan_persistent_lstm_pair({CellKind::lstm, 512, 1, 0, 4}, device_named("H100")).ctas, 64);
}

}  // namespace
}  // namespace gpurnn::testing
