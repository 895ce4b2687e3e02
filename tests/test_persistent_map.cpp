// The persistent LSTM kernel's thread-to-data arithmetic (kernels/persistent_lstm_map.h),
// enumerated for every CTA, warp, lane and staging thread of every plan that fits the published
// H100, A100, L4 and T4 property sets, H in {1, 7, 65, 256, 512, 1024}, B in {1, 3, 32}, both
// directions:
//   - each step writes every (b, j) of h_t, c_t, the gates and y exactly once (so no two CTAs
//     write one address), and only into the slot the step owns;
//   - every read of h_{t-1} is from the slot the step before wrote (or the initial state's), and
//     no step reads the slot it writes, so one grid barrier per step suffices;
//   - the h chunk a CTA stages holds every row its warps read, each element staged once;
//   - the warp loop (item = warp, warp + warps, ...) takes every item once;
//   - with kReduceScatter: the reduce-scatter leaves on each lane the full sum of the value
//     reduced_value names, and the lanes that store write each gate of each (b, j) once and the
//     cell once, gathering the four gates of their own sequence;
//   - a launch of both directions gives each direction its own CTAs.

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

#include "engine/layer_loop.h"
#include "persistent_devices.h"
#include "persistent_lstm_map.h"

namespace gpurnn::kernels {
namespace {

struct Config {
  engine::DeviceLimits dev;
  engine::PersistentPlan plan;
  PersistentGeometry g;
};

std::vector<Config> planned_configs() {
  std::vector<Config> out;
  for (const engine::DeviceLimits& dev : testing::published_devices()) {
    for (int H : {1, 7, 65, 256, 512, 1024}) {
      for (int B : {1, 3, 32}) {
        const engine::PersistentPlan plan = engine::plan_persistent_lstm({CellKind::lstm, H, B, 0, 4}, dev);
        if (!plan.fits) continue;
        for (bool reverse : {false, true}) {
          out.push_back({dev, plan, {H, B, 4, reverse, plan.units_per_cta, plan.batch_tile, plan.batch_chunk}});
        }
      }
    }
  }
  return out;
}

std::string describe(const Config& c) {
  return c.dev.name + " H=" + std::to_string(c.g.hidden) + " B=" + std::to_string(c.g.batch) +
         (c.g.reverse ? " reverse" : " forward");
}

TEST(PersistentMap, ConfigurationsCoverEveryDeviceAndSize) {
  const std::vector<Config> configs = planned_configs();
  std::set<std::string> devices;
  for (const Config& c : configs) devices.insert(c.dev.name);
  EXPECT_EQ(devices.size(), 4u);   // each device has sizes that fit
  EXPECT_GE(configs.size(), 100u);  // 4 x 6 x 3 x 2 = 144 minus what does not fit
}

TEST(PersistentMap, StateSlotsMatchTheStandardLayoutAndNeverOverlapInAStep) {
  for (const Config& c : planned_configs()) {
    SCOPED_TRACE(describe(c));
    const PersistentGeometry& g = c.g;
    RNNDescriptor desc;
    desc.input_size = 3;
    desc.hidden_size = g.hidden;
    const engine::LayerProblem p{&desc, 0, g.reverse, g.seq_len, g.batch, nullptr};
    std::set<int> written;
    for (int step = 0; step < g.seq_len; ++step) {
      const int t = time_at(g, step);
      ASSERT_EQ(t, p.time_at(step));
      ASSERT_EQ(prev_slot(g, t), p.prev_index(t));
      ASSERT_EQ(next_slot(g, t), p.next_index(t));
      ASSERT_NE(prev_slot(g, t), next_slot(g, t));
      // h_{t-1}: the initial state's slot at the first step, else what the step before wrote.
      ASSERT_EQ(prev_slot(g, t), step == 0 ? initial_slot(g) : next_slot(g, time_at(g, step - 1)));
      ASSERT_TRUE(written.insert(next_slot(g, t)).second) << "slot written twice";
    }
    ASSERT_EQ(initial_slot(g), p.initial_index());
    ASSERT_EQ(next_slot(g, time_at(g, g.seq_len - 1)), p.final_index());
  }
}

TEST(PersistentMap, EveryStateGateAndOutputElementWrittenOncePerStep) {
  for (const Config& c : planned_configs()) {
    SCOPED_TRACE(describe(c));
    const PersistentGeometry& g = c.g;
    const int warps = c.plan.threads / kWarpSize;
    // Writes of one step: the (b, j) of h_t / c_t / y_t / the four gates, and the shared cell
    // state index inside each CTA.
    std::vector<int> writes(static_cast<std::size_t>(g.batch) * g.hidden, 0);
    for (int cta = 0; cta < c.plan.ctas; ++cta) {
      const Range units = cta_units(g, cta);
      std::vector<int> shared_c(static_cast<std::size_t>(g.units_per_cta) * g.batch, 0);
      for (int chunk = 0; chunk < chunk_count(g); ++chunk) {
        const Range batches = chunk_batches(g, chunk);
        ASSERT_GE(batches.count, 1);
        ASSERT_LE(batches.count, g.batch_chunk);  // fits the shared h chunk
        const int items = items_in_chunk(g, cta, chunk);
        std::vector<int> taken(static_cast<std::size_t>(items), 0);
        for (int warp = 0; warp < warps; ++warp) {
          for (int item = warp; item < items; item += warps) {
            ++taken[static_cast<std::size_t>(item)];
            const WarpItem w = warp_item(g, cta, chunk, item);
            ASSERT_TRUE(w.unit >= 0 && w.unit < units.count);
            ASSERT_TRUE(w.tile_count >= 1 && w.tile_count <= g.batch_tile);
            // lane_partial_sums reads shared h rows [tile_first, tile_first + tile_count).
            ASSERT_LE(w.tile_first + w.tile_count, batches.count);
            for (int lane = 0; lane < kWarpSize; ++lane) {
              const LaneOutput o = lane_output(g, cta, chunk, item, lane);
              if (!o.owns) continue;
              ASSERT_LT(lane, g.batch_tile);
              ASSERT_TRUE(o.b >= batches.first && o.b < batches.first + batches.count);
              ASSERT_EQ(o.row, o.b - batches.first);
              ASSERT_TRUE(o.j >= units.first && o.j < units.first + units.count);
              ++writes[static_cast<std::size_t>(o.b) * g.hidden + o.j];
              ++shared_c[static_cast<std::size_t>(o.j - units.first) * g.batch + o.b];
            }
          }
        }
        for (int n : taken) ASSERT_EQ(n, 1) << "warp item not taken exactly once";
      }
      for (std::size_t e = 0; e < shared_c.size(); ++e) {
        const bool real_unit = static_cast<int>(e) / g.batch < units.count;
        ASSERT_EQ(shared_c[e], real_unit ? 1 : 0);
      }
    }
    for (int n : writes) ASSERT_EQ(n, 1) << "an element of h_t is not written exactly once";
    // The four gates of (b, j) and its state index are distinct addresses for distinct (b, j).
    const int t = time_at(g, 1);
    std::set<std::int64_t> gate_addresses, state_addresses;
    for (int b = 0; b < g.batch; ++b) {
      for (int j = 0; j < g.hidden; ++j) {
        state_addresses.insert(state_index(g, next_slot(g, t), b, j));
        for (int gate = 0; gate < 4; ++gate) gate_addresses.insert(gate_index(g, t, b, gate, j));
      }
    }
    ASSERT_EQ(state_addresses.size(), static_cast<std::size_t>(g.batch) * g.hidden);
    ASSERT_EQ(gate_addresses.size(), static_cast<std::size_t>(g.batch) * g.hidden * 4);
    ASSERT_GE(*state_addresses.begin(), state_index(g, next_slot(g, t), 0, 0));
    ASSERT_LT(*state_addresses.rbegin(), state_index(g, next_slot(g, t) + 1, 0, 0));
  }
}

TEST(PersistentMap, StagingLoadsEveryRowOfTheChunkOnceFromThePreviousSlot) {
  for (const Config& c : planned_configs()) {
    SCOPED_TRACE(describe(c));
    const PersistentGeometry& g = c.g;
    const int threads = c.plan.threads;
    for (int chunk = 0; chunk < chunk_count(g); ++chunk) {
      const Range batches = chunk_batches(g, chunk);
      std::vector<int> staged(static_cast<std::size_t>(batches.count) * g.hidden, 0);
      for (int tid = 0; tid < threads; ++tid) {
        for (std::int64_t e = tid; e < static_cast<std::int64_t>(batches.count) * g.hidden; e += threads) {
          const StagedElement x = staged_element(g, e);
          ASSERT_TRUE(x.row >= 0 && x.row < batches.count && x.k >= 0 && x.k < g.hidden);
          ASSERT_EQ(e, static_cast<std::int64_t>(x.row) * g.hidden + x.k);  // its place in the chunk
          ++staged[static_cast<std::size_t>(e)];
        }
      }
      for (int n : staged) ASSERT_EQ(n, 1);
    }
  }
}

TEST(PersistentMap, SharedSlicesAreThePlansLayout) {
  for (const Config& c : planned_configs()) {
    SCOPED_TRACE(describe(c));
    std::vector<float> smem(c.plan.shared_bytes / sizeof(float));
    const SharedSlices<float> s = shared_slices(c.g, smem.data());
    const std::int64_t U = c.g.units_per_cta, H = c.g.hidden;
    EXPECT_EQ(s.h - s.weights, 4 * U * H);
    EXPECT_EQ(s.c - s.h, static_cast<std::int64_t>(c.g.batch_chunk) * H);
    EXPECT_EQ(smem.data() + smem.size() - s.c, U * c.g.batch);
  }
}

// The reduce-scatter on all 32 lanes at once, as the simulator runs it: lane l ends with the
// sum over the warp of value reduced_value<BT>(l) (small integers: every sum exact).
template <int BT>
void expect_reduce_scatter_sums() {
  SCOPED_TRACE("BT=" + std::to_string(BT));
  std::mt19937 rng(BT);
  WarpValues<double> acc[4][BT];
  double total[4 * BT] = {};
  for (int gate = 0; gate < 4; ++gate) {
    for (int bb = 0; bb < BT; ++bb) {
      for (int lane = 0; lane < kWarpSize; ++lane) {
        acc[gate][bb].lane[lane] = static_cast<double>(static_cast<int>(rng() % 2001) - 1000);
        total[gate * BT + bb] += acc[gate][bb].lane[lane];
      }
    }
  }
  const WarpValues<double> out = reduce_scatter<BT>(acc, AllLanes{});
  std::set<int> values;
  for (int lane = 0; lane < kWarpSize; ++lane) {
    const int v = reduced_value<BT>(lane);
    ASSERT_TRUE(v >= 0 && v < 4 * BT);
    values.insert(v);
    EXPECT_EQ(out.lane[lane], total[v]) << "lane " << lane;
    EXPECT_EQ(reduced_value<BT>(lane_of_value<BT>(v)), v);
  }
  EXPECT_EQ(values.size(), static_cast<std::size_t>(4 * BT));  // every value on some lane
}

TEST(PersistentMap, ReduceScatterLeavesEachLaneTheFullSumOfItsValue) {
  expect_reduce_scatter_sums<1>();
  expect_reduce_scatter_sums<2>();
  expect_reduce_scatter_sums<4>();
}

template <int BT>
void expect_scatter_stores_once(const Config& c) {
  const PersistentGeometry& g = c.g;
  const int warps = c.plan.threads / kWarpSize;
  std::vector<int> gate_writes(static_cast<std::size_t>(g.batch) * g.hidden * 4, 0);
  std::vector<int> cell_writes(static_cast<std::size_t>(g.batch) * g.hidden, 0);
  for (int cta = 0; cta < c.plan.ctas; ++cta) {
    for (int chunk = 0; chunk < chunk_count(g); ++chunk) {
      const int items = items_in_chunk(g, cta, chunk);
      for (int warp = 0; warp < warps; ++warp) {
        for (int item = warp; item < items; item += warps) {
          for (int lane = 0; lane < kWarpSize; ++lane) {
            const LaneGate x = lane_gate<BT>(g, cta, chunk, item, lane);
            const LaneOutput o = lane_output(g, cta, chunk, item, x.row - warp_item(g, cta, chunk, item).tile_first);
            ASSERT_EQ(x.owns, o.owns) << "lane " << lane;  // the tile's sequences, as the first version
            if (!x.owns) continue;
            ASSERT_EQ(x.b, o.b);
            ASSERT_EQ(x.j, o.j);
            for (int q = 0; q < 4; ++q) {  // the gather reads gate q of the same sequence
              const LaneGate src = lane_gate<BT>(g, cta, chunk, item, gate_source_lane<BT>(lane, q));
              ASSERT_TRUE(src.owns && src.first);
              ASSERT_EQ(src.gate, q);
              ASSERT_EQ(src.b, x.b);
            }
            if (!x.first) continue;
            ++gate_writes[(static_cast<std::size_t>(x.b) * g.hidden + x.j) * 4 + x.gate];
            if (x.gate == 0) ++cell_writes[static_cast<std::size_t>(x.b) * g.hidden + x.j];
          }
        }
      }
    }
  }
  for (int n : gate_writes) ASSERT_EQ(n, 1) << "a gate is not stored exactly once";
  for (int n : cell_writes) ASSERT_EQ(n, 1) << "a cell is not updated exactly once";
}

TEST(PersistentMap, ScatterLanesStoreEveryGateAndCellOncePerStep) {
  for (const Config& c : planned_configs()) {
    SCOPED_TRACE(describe(c));
    switch (c.plan.batch_tile) {
      case 1: expect_scatter_stores_once<1>(c); break;
      case 2: expect_scatter_stores_once<2>(c); break;
      default: expect_scatter_stores_once<4>(c); break;
    }
  }
}

// A launch of both directions: grid CTAs [0, n) are the forward direction's CTAs 0..n-1 and
// [n, 2n) the reverse direction's, each exactly once; one direction's launch has only the first.
TEST(PersistentMap, PairedLaunchGivesEachDirectionItsOwnCtas) {
  for (int n : {1, 3, 66, 128}) {
    std::set<std::pair<int, int>> seen;
    for (int block = 0; block < 2 * n; ++block) {
      const LaunchCta c = launch_cta(n, block);
      ASSERT_TRUE(c.direction == 0 || c.direction == 1);
      ASSERT_TRUE(c.cta >= 0 && c.cta < n);
      ASSERT_EQ(c.direction, block < n ? 0 : 1);
      seen.insert({c.direction, c.cta});
    }
    EXPECT_EQ(seen.size(), static_cast<std::size_t>(2 * n));
  }
}

}  // namespace
}  // namespace gpurnn::kernels
