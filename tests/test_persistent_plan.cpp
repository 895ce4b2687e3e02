// The persistent LSTM kernel's launch plan (engine/persistent_plan.h) over the published
// property sets of H100, A100, L4 and T4: every limit respected, every hidden unit owned by one
// CTA, the shared memory the kernel's layout needs, and a refusal that names the limit when it
// does not fit; for f32, f64 and the bf16/f16 calls' half weights on chip (f32 state).

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

PersistentPlan plan_for(const DeviceLimits& dev, std::int64_t H, std::int64_t B, std::size_t elem = 4,
                        std::size_t weight = 0) {
  return engine::plan_persistent_lstm(PersistentProblem{CellKind::lstm, H, B, 0, elem, weight}, dev);
}
// The plan of a call in `dtype` (f32, f64, bf16, f16).
PersistentPlan plan_in(DType dtype, const DeviceLimits& dev, std::int64_t H, std::int64_t B) {
  RNNDescriptor d;
  d.hidden_size = H;
  d.input_size = 1;
  return engine::plan_persistent_lstm(engine::persistent_problem(d, B, dtype), dev);
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
        for (const auto& [elem, weight] : {std::pair<std::size_t, std::size_t>{4, 4}, {8, 8}, {4, 2}}) {
          SCOPED_TRACE(dev.name + " H=" + std::to_string(H) + " B=" + std::to_string(B) + " elem=" + std::to_string(elem) +
                       " weight=" + std::to_string(weight));
          const PersistentPlan p = plan_for(dev, H, B, elem, weight);
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
          const auto shared = [&](std::int64_t chunk) {
            return static_cast<std::size_t>(engine::persistent_shared_bytes(H, p.units_per_cta, B, chunk,
                                                                            static_cast<std::int64_t>(elem),
                                                                            static_cast<std::int64_t>(weight)));
          };
          EXPECT_EQ(p.shared_bytes, shared(p.batch_chunk));
          if (elem == weight) {
            EXPECT_EQ(p.shared_bytes, static_cast<std::size_t>(engine::persistent_shared_elements(
                                          H, p.units_per_cta, B, p.batch_chunk)) * elem);
          }
          EXPECT_LE(p.shared_bytes, dev.shared_per_block_optin);
          if (p.batch_chunk < whole) {  // a larger chunk would not have fit
            EXPECT_GT(shared(p.batch_chunk + p.batch_tile), dev.shared_per_block_optin);
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
  EXPECT_GT(fitted, 150);  // both outcomes are exercised
  EXPECT_GT(refused, 30);
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
  // Half states are not a thing (the rule keeps them f32); half weights go with f32 state only.
  const PersistentPlan f16 = engine::plan_persistent_lstm({CellKind::lstm, 256, 1, 0, 2}, h100);
  EXPECT_FALSE(f16.fits);
  for (const auto& [elem, weight] : {std::pair<std::size_t, std::size_t>{8, 2}, {8, 4}, {4, 8}, {4, 1}}) {
    const PersistentPlan p = engine::plan_persistent_lstm({CellKind::lstm, 256, 1, 0, elem, weight}, h100);
    EXPECT_FALSE(p.fits) << elem << " " << weight;
    EXPECT_NE(p.why_not.find("W_hh"), std::string::npos) << p.why_not;
  }
}

TEST(PersistentPlan, AutoPrefersPersistentWhenItFitsAtSmallBatch) {
  const DeviceLimits& h100 = device_named("H100");
  EXPECT_TRUE(engine::auto_prefers_persistent(plan_for(h100, 512, 1), 512, 1));
  EXPECT_TRUE(engine::auto_prefers_persistent(plan_for(h100, 512, 32), 512, 32));
  EXPECT_FALSE(engine::auto_prefers_persistent(plan_for(h100, 512, 128), 512, 128));
  EXPECT_FALSE(engine::auto_prefers_persistent(plan_for(h100, 2048, 1), 2048, 1));
  // bf16/f16 calls: the half plan, which fits H 1536 where f32's does not.
  for (DType half : {DType::bf16, DType::f16}) {
    EXPECT_TRUE(engine::auto_prefers_persistent(plan_in(half, h100, 512, 32), 512, 32));
    EXPECT_FALSE(engine::auto_prefers_persistent(plan_in(half, h100, 512, 128), 512, 128));
    EXPECT_TRUE(engine::auto_prefers_persistent(plan_in(half, h100, 1536, 1), 1536, 1));
    EXPECT_FALSE(engine::auto_prefers_persistent(plan_in(DType::f32, h100, 1536, 1), 1536, 1));
    EXPECT_FALSE(engine::auto_prefers_persistent(plan_in(half, h100, 2048, 1), 2048, 1));
  }
}

// The largest H whose plan fits (every smaller H fits too: the shared bytes grow with H).
std::int64_t max_hidden(DType dtype, const DeviceLimits& dev, std::int64_t B) {
  std::int64_t best = 0;
  for (std::int64_t H = 1; H <= 4096; ++H) {
    if (!plan_in(dtype, dev, H, B).fits) break;
    best = H;
  }
  if (best < 4096) {
    EXPECT_FALSE(plan_in(dtype, dev, best + 1, B).fits);
  }
  return best;
}

// What fits, per card, batch and dtype: the largest hidden size at batch 1 and 32 (one layer
// direction on every SM; a paired bidirectional launch fits what half the SMs hold). Half weights
// halve the weight slice, which grows as 4 H^2 / SMs elements, so the largest H grows by about
// sqrt(2) (not 2: the units per CTA grow with H too); the h chunk and cell state stay f32. bf16 and
// f16 plan alike.
TEST(PersistentPlan, WhatFitsPerDeviceInF32Bf16AndF16) {
  struct Row {
    const char* device;
    std::int64_t batch;
    std::int64_t f32, half;
  };
  const Row rows[] = {
      {"H100", 1, 1320, 1874},   {"H100", 32, 1313, 1802},
      {"A100", 1, 1017, 1438},   {"A100", 32, 972, 1377},
      {"L4", 1, 580, 817},         {"L4", 32, 568, 778},
      {"T4", 1, 399, 560},         {"T4", 32, 365, 520},
  };
  for (const Row& r : rows) {
    const DeviceLimits& dev = device_named(r.device);
    SCOPED_TRACE(dev.name + " B=" + std::to_string(r.batch));
    const std::int64_t f32 = max_hidden(DType::f32, dev, r.batch);
    const std::int64_t bf16 = max_hidden(DType::bf16, dev, r.batch);
    const std::int64_t f16 = max_hidden(DType::f16, dev, r.batch);
    std::printf("[ fits     ] %-18s B=%-3lld max H: f32 %lld, bf16 %lld, f16 %lld\n", dev.name.c_str(),
                static_cast<long long>(r.batch), static_cast<long long>(f32), static_cast<long long>(bf16),
                static_cast<long long>(f16));
    EXPECT_EQ(f32, r.f32);
    EXPECT_EQ(bf16, r.half);
    EXPECT_EQ(f16, r.half);
    EXPECT_GT(bf16 * 10, f32 * 13);  // at least 1.3 x
  }
  // The H100 at H 1536 (288 KiB of f32 weights per CTA): 144 KiB in bf16, so it fits.
  const PersistentPlan h = plan_in(DType::bf16, device_named("H100"), 1536, 1);
  ASSERT_TRUE(h.fits) << h.why_not;
  EXPECT_EQ(h.units_per_cta, 12);
  EXPECT_EQ(h.shared_bytes, static_cast<std::size_t>(4 * 12 * 1536 * 2 + 1536 * 4 + 12 * 4));
  // H 2048 still does not (U 16: 256 KiB of bf16 weights).
  const PersistentPlan no = plan_in(DType::bf16, device_named("H100"), 2048, 1);
  EXPECT_FALSE(no.fits);
  EXPECT_NE(no.why_not.find("16-bit weights"), std::string::npos) << no.why_not;
}

// The half kernel's shared layout (kernels::shared_slices<float, W>) is the plan's: the weight
// slice padded to 16 bytes (odd 4*U*H*2), the f32 h chunk 16-byte aligned after it (the vector
// staging), the cell state after that, ending at plan.shared_bytes.
TEST(PersistentPlan, HalfWeightLayoutIsThePlans) {
  for (const DeviceLimits& dev : published_devices()) {
    for (std::int64_t H : {1, 7, 65, 256, 1024, 1536}) {
      for (std::int64_t B : {1, 3, 32}) {
        const PersistentPlan p = plan_in(DType::bf16, dev, H, B);
        if (!p.fits) continue;
        SCOPED_TRACE(dev.name + " H=" + std::to_string(H) + " B=" + std::to_string(B));
        const kernels::PersistentGeometry g{static_cast<int>(H), static_cast<int>(B), 1, false,
                                            p.units_per_cta, p.batch_tile, p.batch_chunk};
        alignas(16) static float base[4];
        const kernels::SharedSlices<float, bfloat16> s = kernels::shared_slices<float, bfloat16>(g, base);
        const auto offset = [&](const void* q) {
          return static_cast<std::size_t>(static_cast<const char*>(q) - reinterpret_cast<const char*>(base));
        };
        EXPECT_EQ(offset(s.weights), 0u);
        EXPECT_EQ(offset(s.h) % 16, 0u);
        EXPECT_GE(offset(s.h), static_cast<std::size_t>(4 * p.units_per_cta * H * 2));
        EXPECT_LT(offset(s.h), static_cast<std::size_t>(4 * p.units_per_cta * H * 2 + 16));
        EXPECT_EQ(offset(s.c), offset(s.h) + static_cast<std::size_t>(p.batch_chunk * H * 4));
        EXPECT_EQ(offset(s.c) + static_cast<std::size_t>(p.units_per_cta * B * 4), p.shared_bytes);
      }
    }
  }
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
       for (std::size_t weight : {std::size_t{4}, std::size_t{2}}) {
        SCOPED_TRACE(dev.name + " H=" + std::to_string(H) + " B=" + std::to_string(B) + " weight " + std::to_string(weight));
        const PersistentProblem problem{CellKind::lstm, H, B, 0, 4, weight};
        const PersistentPlan pair = engine::plan_persistent_lstm_pair(problem, dev);
        DeviceLimits half = dev;
        half.sm_count /= 2;
        const PersistentPlan expected = engine::plan_persistent_lstm(problem, half);
        ASSERT_EQ(pair.fits, expected.fits);
        if (!pair.fits) continue;
        EXPECT_EQ(pair.ctas, expected.ctas);
        EXPECT_EQ(pair.units_per_cta, expected.units_per_cta);
        EXPECT_LE(2 * pair.ctas, dev.sm_count);
        EXPECT_EQ(pair.shared_bytes, expected.shared_bytes);
       }
      }
    }
  }
  EXPECT_EQ(engine::plan_persistent_lstm_pair({CellKind::lstm, 512, 1, 0, 4}, device_named("H100")).ctas, 64);
  // Both directions of H 1024 at once on an H100: in f32 each direction's 66 SMs would need
  // U 16 (256 KiB of weights); with bf16 weights, 128 KiB.
  EXPECT_FALSE(engine::plan_persistent_lstm_pair({CellKind::lstm, 1024, 1, 0, 4, 4}, device_named("H100")).fits);
  EXPECT_TRUE(engine::plan_persistent_lstm_pair({CellKind::lstm, 1024, 1, 0, 4, 2}, device_named("H100")).fits);
}

}  // namespace
}  // namespace gpurnn::testing
