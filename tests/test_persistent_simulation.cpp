// The persistent LSTM kernel's own code (kernels/persistent_lstm_map.h), run on the CPU by
// tests/persistent_simulator.h for every CTA, warp and lane, inside the whole network loop,
// against the cpu backend: y, hn, cn of inference and training forwards, and every gradient
// of the standard backward run on the reserve the simulated kernel filled (f32 within 1e-5 /
// 1e-4, f64 within 1e-12 / 1e-10). Outputs, workspace and reserve are NaN-poisoned, and the
// simulated shared memory starts as NaN, so an element the kernel forgets is caught.
//
// Two device shapes: 3 SMs with shared memory for one batch tile of h only (several units per
// CTA, a short last CTA, h staged in chunks), and the H100's published limits (one unit per
// CTA, H CTAs; a bidirectional layer's two directions in one launch on 66 SMs each). What this cannot show: the real grid barrier, memory ordering between SMs,
// the shuffles and occupancy; those need the GPU tests (tests/gpu/test_persistent.cpp).

#include <gtest/gtest.h>

#include "persistent_devices.h"
#include "persistent_simulator.h"
#include "test_support.h"

namespace gpurnn::testing {
namespace {

constexpr std::int64_t kSteps = 6;

// 3 SMs and exactly the shared memory of one batch tile of h_{t-1}, so B > BT is chunked.
engine::DeviceLimits one_tile_device(std::int64_t H, std::int64_t B, std::size_t elem) {
  const int sms = 3;
  const std::int64_t U = (H + sms - 1) / sms;
  const int BT = engine::persistent_batch_tile(B);
  const auto bytes = static_cast<std::size_t>(engine::persistent_shared_elements(H, U, B, BT)) * elem;
  return {"3-SM one-tile", sms, bytes, 65536, 1024, true};
}

FullRunInputs inputs(const RNNDescriptor& d, DType dtype, const std::vector<std::int32_t>& lengths,
                     std::int64_t steps, ForwardMode mode, bool ragged) {
  const std::int64_t states = static_cast<std::int64_t>(d.num_layers) * d.num_directions();
  const auto B = static_cast<std::int64_t>(lengths.size());
  FullRunInputs in;
  in.mode = mode;
  in.x = random_tensor({steps, B, d.input_size}, dtype, 11, 1);
  in.h0 = random_tensor({states, B, d.hidden_size}, dtype, 11, 2, 0.5);
  in.c0 = random_tensor({states, B, d.hidden_size}, dtype, 11, 3, 0.5);
  in.dy = random_tensor({steps, B, d.output_size()}, dtype, 11, 4);
  in.dhn = random_tensor({states, B, d.hidden_size}, dtype, 11, 5);
  in.dcn = random_tensor({states, B, d.hidden_size}, dtype, 11, 6);
  if (ragged) in.lengths = Tensor::from_host<std::int32_t>({B}, lengths.data());
  in.dropout_seed = 5;
  return in;
}

// Runs `in` on the simulated kernel for `device` and on the cpu backend; every layer direction
// must have gone through the simulated kernel.
void expect_simulation_matches_cpu(const RNNDescriptor& d, DType dtype, const FullRunInputs& in,
                                   const engine::DeviceLimits& device, int reduction = engine::kReduceScatter) {
  RNNWeights w(d, dtype);
  w.init_uniform(17);
  int simulated = 0;
  const FullRun sim =
      full_run(*make_simulated_persistent_backend(device, &simulated, engine::kStageVectors, reduction), w, in);
  const FullRun cpu = full_run(*make_backend("cpu"), w, in);
  ASSERT_EQ(simulated, d.num_layers * d.num_directions()) << "the plan did not fit " << device.name;
  const double fwd = dtype == DType::f32 ? 1e-5 : 1e-12;
  const double bwd = dtype == DType::f32 ? 1e-4 : 1e-10;
  EXPECT_LT(relative_error(sim.y, cpu.y), fwd) << "y";
  EXPECT_LT(relative_error(sim.hn, cpu.hn), fwd) << "hn";
  EXPECT_LT(relative_error(sim.cn, cpu.cn), fwd) << "cn";
  if (in.mode == ForwardMode::inference) return;
  EXPECT_LT(relative_error(sim.dx, cpu.dx), bwd) << "dx";
  EXPECT_LT(relative_error(sim.dh0, cpu.dh0), bwd) << "dh0";
  EXPECT_LT(relative_error(sim.dc0, cpu.dc0), bwd) << "dc0";
  EXPECT_LT(relative_error(sim.dweights.flat(), cpu.dweights.flat()), bwd) << "weights";
}

TEST(PersistentSimulation, MatchesCpuAcrossSizesLayersDirectionsLengthsAndDevices) {
  const std::vector<std::vector<std::int32_t>> batches = {{4}, {6, 2}, {3, 6, 1, 5, 2}};
  int cases = 0;
  for (DType dtype : {DType::f32, DType::f64}) {
    for (std::int64_t H : {1, 7, 65}) {
      for (int layers : {1, 2}) {
        for (bool bi : {false, true}) {
          for (bool bias : {true, false}) {
            RNNDescriptor d;
            d.hidden_size = H;
            d.input_size = 5;
            d.num_layers = layers;
            d.bidirectional = bi;
            d.bias = bias;
            d.dropout = layers > 1 && bias ? 0.3 : 0.0;
            for (const std::vector<std::int32_t>& lengths : batches) {
              const auto B = static_cast<std::int64_t>(lengths.size());
              for (bool ragged : {false, true}) {
                for (ForwardMode mode : {ForwardMode::inference, ForwardMode::training}) {
                  for (const engine::DeviceLimits& dev :
                       {one_tile_device(H, B, dtype_size(dtype)), published_devices().front()}) {
                    SCOPED_TRACE(case_name(d) + " " + to_string(dtype) + " B=" + std::to_string(B) +
                                 (ragged ? " ragged " : " equal ") +
                                 (mode == ForwardMode::training ? "training " : "inference ") + dev.name);
                    expect_simulation_matches_cpu(d, dtype, inputs(d, dtype, lengths, kSteps, mode, ragged), dev);
                    ++cases;
                  }
                }
              }
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(cases, 2 * 3 * 2 * 2 * 2 * 3 * 2 * 2 * 2);
}

// The two ways of staging h_{t-1} (issue 20, item 1): the contiguous 16-byte copy and the first,
// element-wise loop give the same shared chunk, so the same results bit for bit, and both match
// the cpu backend. H a multiple of 4 (f32) or 2 (f64) takes the vector body; other H, the scalar
// head and tail or the element path when the offsets differ.
TEST(PersistentSimulation, VectorAndElementwiseStagingAgreeBitForBit) {
  int cases = 0;
  for (DType dtype : {DType::f32, DType::f64}) {
    for (std::int64_t H : {4, 7, 64, 66}) {
      for (bool bi : {false, true}) {
        for (const std::vector<std::int32_t>& lengths :
             std::vector<std::vector<std::int32_t>>{{4}, {3, 6, 1, 5, 2}, {2, 5, 5, 1, 3, 4, 2, 5, 1}}) {
          RNNDescriptor d;
          d.hidden_size = H;
          d.input_size = 3;
          d.bidirectional = bi;
          const auto B = static_cast<std::int64_t>(lengths.size());
          const FullRunInputs in = inputs(d, dtype, lengths, kSteps, ForwardMode::training, true);
          RNNWeights w(d, dtype);
          w.init_uniform(23);
          for (const engine::DeviceLimits& dev : {one_tile_device(H, B, dtype_size(dtype)), published_devices().front()}) {
            SCOPED_TRACE(case_name(d) + " " + to_string(dtype) + " B=" + std::to_string(B) + " " + dev.name);
            int simulated = 0;
            const FullRun vectors =
                full_run(*make_simulated_persistent_backend(dev, &simulated, engine::kStageVectors), w, in);
            const FullRun elements =
                full_run(*make_simulated_persistent_backend(dev, &simulated, engine::kStageElements), w, in);
            ASSERT_EQ(simulated, 2 * d.num_directions());
            EXPECT_EQ(to_vector(vectors.y), to_vector(elements.y));
            EXPECT_EQ(to_vector(vectors.hn), to_vector(elements.hn));
            EXPECT_EQ(to_vector(vectors.cn), to_vector(elements.cn));
            EXPECT_EQ(to_vector(vectors.dweights.flat()), to_vector(elements.dweights.flat()));
            expect_simulation_matches_cpu(d, dtype, in, dev);
            ++cases;
          }
        }
      }
    }
  }
  EXPECT_EQ(cases, 2 * 4 * 2 * 3 * 2);
}

// The cases of the variant tests below: f32 and f64, H 7 and 65, batches of 1, 2 and 5
// sequences with ragged lengths, a two-layer bidirectional LSTM; `run(d, dtype, lengths, B)`
// for each. Returns how many ran.
template <class Run>
int for_each_variant_case(Run run) {
  int cases = 0;
  for (DType dtype : {DType::f32, DType::f64}) {
    for (std::int64_t H : {7, 65}) {
      for (const std::vector<std::int32_t>& lengths :
           std::vector<std::vector<std::int32_t>>{{4}, {6, 2}, {3, 6, 1, 5, 2}}) {
        RNNDescriptor d;
        d.hidden_size = H;
        d.input_size = 5;
        d.num_layers = 2;
        d.bidirectional = true;
        run(d, dtype, lengths, static_cast<std::int64_t>(lengths.size()));
        ++cases;
      }
    }
  }
  return cases;
}

// The warp's two reductions (issue 20, item 2): the reduce-scatter with every lane applying one
// gate (the default, covered above) and the first version's full sums with lanes < BT applying
// the cell both match the cpu backend, for batch tiles 1, 2 and 4 and short last tiles.
TEST(PersistentSimulation, ScatterAndFullReductionsBothMatchCpu) {
  const int cases = for_each_variant_case([](const RNNDescriptor& d, DType dtype, const std::vector<std::int32_t>& lengths,
                                             std::int64_t B) {
    const FullRunInputs in = inputs(d, dtype, lengths, kSteps, ForwardMode::training, true);
    for (int reduction : {engine::kReduceScatter, engine::kReduceFull}) {
      for (const engine::DeviceLimits& dev : {one_tile_device(d.hidden_size, B, dtype_size(dtype)), published_devices().front()}) {
        SCOPED_TRACE(case_name(d) + " " + to_string(dtype) + " B=" + std::to_string(B) + " reduction " +
                     std::to_string(reduction) + " " + dev.name);
        expect_simulation_matches_cpu(d, dtype, in, dev, reduction);
      }
    }
  });
  EXPECT_EQ(cases, 2 * 2 * 3);
}

// Both directions of a bidirectional layer in one launch (issue 20, item 3): on the H100's limits
// the plan for half the SMs fits, so the paired launch runs; its results equal the one-launch-per-
// direction run's bit for bit (each (b, j) is the same warp's same sum whatever the CTA split)
// and match the cpu backend. On the 3-SM one-tile device the paired plan does not fit and each
// direction runs alone.
TEST(PersistentSimulation, BothDirectionsInOneLaunchMatchOneLaunchEach) {
  const int cases = for_each_variant_case([](const RNNDescriptor& d, DType dtype, const std::vector<std::int32_t>& lengths,
                                             std::int64_t B) {
    RNNWeights w(d, dtype);
    w.init_uniform(29);
    for (ForwardMode mode : {ForwardMode::inference, ForwardMode::training}) {
      const FullRunInputs in = inputs(d, dtype, lengths, kSteps, mode, true);
      for (const engine::DeviceLimits& dev : {published_devices().front(), one_tile_device(d.hidden_size, B, dtype_size(dtype))}) {
        SCOPED_TRACE(case_name(d) + " " + to_string(dtype) + " B=" + std::to_string(B) + " " + dev.name +
                     (mode == ForwardMode::training ? " training" : " inference"));
        int simulated = 0, pairs = 0, no_pairs = 0;
        const FullRun paired = full_run(*make_simulated_persistent_backend(dev, &simulated, engine::kStageVectors,
                                                                           engine::kReduceScatter, true, &pairs),
                                        w, in);
        const FullRun each = full_run(*make_simulated_persistent_backend(dev, &simulated, engine::kStageVectors,
                                                                         engine::kReduceScatter, false, &no_pairs),
                                      w, in);
        const bool half_fits = dev.sm_count > 3;
        // Forward passes: 2 layers each; the training run's backward runs no kernel.
        EXPECT_EQ(pairs, half_fits ? d.num_layers : 0);
        EXPECT_EQ(no_pairs, 0);
        EXPECT_EQ(simulated, 2 * d.num_layers * d.num_directions());
        EXPECT_EQ(to_vector(paired.y), to_vector(each.y));
        EXPECT_EQ(to_vector(paired.hn), to_vector(each.hn));
        EXPECT_EQ(to_vector(paired.cn), to_vector(each.cn));
        if (mode == ForwardMode::training) {
          EXPECT_EQ(to_vector(paired.dx), to_vector(each.dx));
          EXPECT_EQ(to_vector(paired.dweights.flat()), to_vector(each.dweights.flat()));
        }
        expect_simulation_matches_cpu(d, dtype, in, dev);
      }
    }
  });
  EXPECT_EQ(cases, 2 * 2 * 3);
}

// copy_range_past_l1 on every alignment of source and destination and every length around the
// vector width, split over a few threads: every element copied once, nothing past the range.
TEST(PersistentSimulation, RangeCopyCoversEveryOffsetAndLength) {
  alignas(16) float src[64], dst[80];
  for (int i = 0; i < 64; ++i) src[i] = static_cast<float>(i) + 0.5f;
  for (int so = 0; so < 4; ++so) {
    for (int dof = 0; dof < 4; ++dof) {
      for (int n = 0; n <= 40; ++n) {
        for (int threads : {1, 3, 32}) {
          for (float& v : dst) v = -1.0f;
          for (int tid = 0; tid < threads; ++tid) kernels::copy_range_past_l1(src + so, dst + dof, n, tid, threads);
          for (int i = 0; i < 80; ++i) {
            const bool inside = i >= dof && i < dof + n;
            ASSERT_EQ(dst[i], inside ? src[so + i - dof] : -1.0f)
                << "src offset " << so << " dst offset " << dof << " n " << n << " threads " << threads << " i " << i;
          }
        }
      }
    }
  }
}

// A thousand steps with ragged lengths: the final state after many barriers' worth of steps.
TEST(PersistentSimulation, LongSequenceFinalStateMatchesCpu) {
  RNNDescriptor d;
  d.hidden_size = 9;
  d.input_size = 4;
  d.bidirectional = true;
  const std::vector<std::int32_t> lengths = {1000, 1, 517};
  for (ForwardMode mode : {ForwardMode::inference, ForwardMode::training}) {
    expect_simulation_matches_cpu(d, DType::f32, inputs(d, DType::f32, lengths, 1000, mode, true),
                                  one_tile_device(9, 3, 4));
  }
}

// The simulated kernel really is what ran: a deliberately wrong plan shows up as a mismatch.
TEST(PersistentSimulation, AWrongCellStateWouldBeCaught) {
  RNNDescriptor d;
  d.hidden_size = 7;
  d.input_size = 3;
  RNNWeights w(d, DType::f64);
  w.init_uniform(3);
  FullRunInputs in = inputs(d, DType::f64, {6, 2, 4}, kSteps, ForwardMode::inference, true);
  int simulated = 0;
  const FullRun sim = full_run(*make_simulated_persistent_backend(one_tile_device(7, 3, 8), &simulated), w, in);
  in.c0 = random_tensor({1, 3, 7}, DType::f64, 99, 3, 0.5);  // another initial cell state
  const FullRun cpu = full_run(*make_backend("cpu"), w, in);
  ASSERT_EQ(simulated, 1);
  EXPECT_GT(relative_error(sim.cn, cpu.cn), 1e-6);
}

}  // namespace
}  // namespace gpurnn::testing
