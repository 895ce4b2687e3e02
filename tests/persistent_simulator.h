#pragma once
// The persistent LSTM kernel run on the CPU: its own phase functions
// (kernels/persistent_lstm_map.h) called for every CTA, warp and lane in the order the kernel's
// barriers allow: the reduce-scatter on all 32 lanes at once (kernels::WarpValues), the first
// version's shuffle sum replaced by a sum over its 32 lanes. Shared
// memory is an array per CTA that lives for the whole launch, like the kernel's, every byte 0xff
// at the start (a NaN as f32, f64, bf16 and f16).
//
// And a Backend around it: the standard algorithm on the CPU (cpu::CpuOps) whose time loop is
// the simulated kernel wherever the plan for `device` fits, so a test runs the whole network
// (layers, directions, dropout, training reserve, then the standard backward on that reserve)
// through the kernel's code and compares it with the cpu backend. In a bf16/f16 call (the
// StandardBackend's half path, engine/half_calls.h, as on the cuda backend) the time loop is the
// half-weight kernel (W = gpurnn::bfloat16 / float16) reading the call's own half W_hh, planned
// with 2-byte weights, as CudaOps::run_time_loop runs it.

#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "core/half_arrays.h"
#include "cpu/cpu_ops.h"
#include "engine/persistent_args.h"
#include "engine/persistent_plan.h"
#include "engine/standard_backend.h"
#include "persistent_lstm_map.h"

namespace gpurnn::testing {

// One warp item with kReduceScatter: the kernel's reduce_scatter on all 32 lanes at once
// (kernels::WarpValues), then each lane's gate, the gather the kernel does by shuffles, and the
// stores.
template <class T, class W, int BT>
void simulate_scatter_item(const kernels::PersistentLstmArgs<T, W>& a, T* smem, int step, int cta, int chunk, int item) {
  using namespace kernels;
  WarpValues<T> acc[4][BT] = {};
  for (int lane = 0; lane < kWarpSize; ++lane) {
    T mine[4][BT];
    lane_partial_sums<T, BT>(a, smem, cta, chunk, item, lane, mine);
    for (int gate = 0; gate < 4; ++gate) {
      for (int bb = 0; bb < BT; ++bb) acc[gate][bb].lane[lane] = mine[gate][bb];
    }
  }
  const WarpValues<T> sums = reduce_scatter<BT>(acc, AllLanes{});
  T act[kWarpSize];
  for (int lane = 0; lane < kWarpSize; ++lane) {
    act[lane] = activate_lane_gate<T, BT>(a, step, cta, chunk, item, lane, sums.lane[lane]);
  }
  for (int lane = 0; lane < kWarpSize; ++lane) {
    const detail::LstmGates<T> gates{act[gate_source_lane<BT>(lane, 0)], act[gate_source_lane<BT>(lane, 1)],
                                     act[gate_source_lane<BT>(lane, 2)], act[gate_source_lane<BT>(lane, 3)]};
    apply_gathered_cell<T, BT>(a, smem, step, cta, chunk, item, lane, gates);
  }
}

// The launch's grid CTAs (one direction's, or both directions' of kernels::PersistentLaunch),
// each with its own shared memory for the whole launch, stepping together between grid barriers.
template <class T, class W, int BT>
void simulate_persistent_lstm_tiled(const kernels::PersistentLaunch<T, W>& launch, const engine::PersistentPlan& plan) {
  using namespace kernels;
  const int threads = plan.threads, warps = threads / kWarpSize;
  const int blocks = plan.ctas * launch.directions;
  const std::size_t words = (plan.shared_bytes + 7) / 8;  // 8-byte words, all bits set
  std::vector<std::vector<std::uint64_t>> smem(static_cast<std::size_t>(blocks),
                                               std::vector<std::uint64_t>(words, ~std::uint64_t{0}));
  auto shared_of = [&](int block) { return reinterpret_cast<T*>(smem[static_cast<std::size_t>(block)].data()); };
  auto args_of = [&](int block) -> const PersistentLstmArgs<T, W>& {
    return launch.dirs[launch_cta(launch.ctas_per_direction, block).direction];
  };
  for (int block = 0; block < blocks; ++block) {
    const int cta = launch_cta(launch.ctas_per_direction, block).cta;
    for (int tid = 0; tid < threads; ++tid) load_cta_slices(args_of(block), cta, tid, threads, shared_of(block));
  }
  const int steps = launch.dirs[0].g.seq_len;
  for (int step = 0; step < steps; ++step) {
    // Between grid barriers the CTAs run in any order: alternate it.
    for (int n = 0; n < blocks; ++n) {
      const int block = step % 2 == 0 ? n : blocks - 1 - n;
      const int cta = launch_cta(launch.ctas_per_direction, block).cta;
      const PersistentLstmArgs<T, W>& a = args_of(block);
      const PersistentGeometry& g = a.g;
      for (int chunk = 0; chunk < chunk_count(g); ++chunk) {
        for (int tid = 0; tid < threads; ++tid) stage_h_chunk(a, step, chunk, tid, threads, shared_of(block));
        // __syncthreads
        const int items = items_in_chunk(g, cta, chunk);
        for (int warp = 0; warp < warps; ++warp) {
          for (int item = warp; item < items; item += warps) {
            if (g.reduction == kReduceScatter) {
              simulate_scatter_item<T, W, BT>(a, shared_of(block), step, cta, chunk, item);
              continue;
            }
            T sums[4][BT] = {};
            for (int lane = 0; lane < kWarpSize; ++lane) {
              T acc[4][BT];
              lane_partial_sums<T, BT>(a, shared_of(block), cta, chunk, item, lane, acc);
              for (int gate = 0; gate < 4; ++gate) {
                for (int bb = 0; bb < BT; ++bb) sums[gate][bb] += acc[gate][bb];
              }
            }
            for (int lane = 0; lane < kWarpSize; ++lane) {
              apply_cell<T, BT>(a, shared_of(block), step, cta, chunk, item, lane, sums);
            }
          }
        }
        // __syncthreads
      }
    }
    // grid barrier
  }
}

template <class T, class W>
void simulate_persistent_lstm(const kernels::PersistentLaunch<T, W>& launch, const engine::PersistentPlan& plan) {
  switch (plan.batch_tile) {
    case 1: return simulate_persistent_lstm_tiled<T, W, 1>(launch, plan);
    case 2: return simulate_persistent_lstm_tiled<T, W, 2>(launch, plan);
    default: return simulate_persistent_lstm_tiled<T, W, 4>(launch, plan);
  }
}

// The launch with W_hh read from the call's half weights (`half_weights[d]` for direction d) in
// the kernel of `half`, as CudaOps::run_time_loop launches it in a bf16/f16 call.
inline void simulate_half_persistent_lstm(DType half, const kernels::PersistentLaunch<float>& launch,
                                          const void* const (&half_weights)[2], const engine::PersistentPlan& plan) {
  const auto run = [&](auto tag) {
    using W = decltype(tag);
    kernels::PersistentLaunch<float, W> l{};
    for (int d = 0; d < 2; ++d) l.dirs[d] = engine::with_weights(launch.dirs[d], static_cast<const W*>(half_weights[d]));
    l.directions = launch.directions;
    l.ctas_per_direction = launch.ctas_per_direction;
    simulate_persistent_lstm(l, plan);
  };
  if (half == DType::bf16) return run(bfloat16{});
  run(float16{});
}

// cpu::CpuOps whose layer time loop is the simulated kernel when the plan fits.
template <class T>
struct SimulatedPersistentOps : cpu::CpuOps<T> {
  engine::DeviceLimits device;
  int* layers_simulated = nullptr;
  int staging = engine::kStageVectors;
  int reduction = engine::kReduceScatter;
  bool pair_directions = true;  // as cuda/persistent: both directions at once where they fit
  int* pairs_simulated = nullptr;
  // A bf16/f16 call: its dtype, the widened f32 weights and the caller's half ones (as CudaOps).
  DType half = DType::f32;
  const float* widened = nullptr;
  const void* half_data = nullptr;
  std::int64_t weight_count = 0;

  void use_half_weights(DType half_dtype, const float* widened_weights, const void* half_weights,
                        std::int64_t count) {
    half = half_dtype;
    widened = widened_weights;
    half_data = half_weights;
    weight_count = count;
    cpu::CpuOps<T>::use_half_weights(half_dtype, widened_weights, half_weights, count);
  }
  // As CudaOps::half_weights_of: the element of the half weights that `w` is the widened copy of.
  const void* half_weights_of(const T* w) const {
    if constexpr (std::is_same_v<T, float>) {
      if (half == DType::f32 || w == nullptr || w < widened || w >= widened + weight_count) return nullptr;
      return static_cast<const char*>(half_data) + static_cast<std::size_t>(w - widened) * dtype_size(half);
    } else {
      (void)w;
      return nullptr;
    }
  }
  engine::PersistentProblem problem(const engine::LayerProblem& p) const {
    return half != DType::f32 ? engine::persistent_problem(*p.desc, p.batch, half)
                              : engine::persistent_problem(*p.desc, p.batch, sizeof(T));
  }
  // Simulates `launch`, in the half kernel in a half call.
  void simulate(const kernels::PersistentLaunch<T>& launch, const engine::PersistentPlan& plan,
                const engine::LayerWeights<T>* w, int directions) {
    if constexpr (std::is_same_v<T, float>) {
      if (half != DType::f32) {
        const void* const weights[2] = {half_weights_of(w[0].w_hh), half_weights_of(w[directions - 1].w_hh)};
        if (weights[0] == nullptr || weights[1] == nullptr) throw std::logic_error("no half copy of W_hh");
        return simulate_half_persistent_lstm(half, launch, weights, plan);
      }
    }
    (void)w, (void)directions;
    simulate_persistent_lstm(launch, plan);
  }

  bool run_time_loop(const engine::LayerProblem& p, const engine::LayerWeights<T>& w,
                     const engine::LayerBuffers<T>& buf, const engine::LayerForwardIO<T>& io) {
    const engine::PersistentPlan plan = engine::plan_persistent_lstm(problem(p), device);
    if (!plan.fits) return false;
    simulate(engine::persistent_launch(plan, engine::persistent_args(plan, p, w, buf, io, staging, reduction)), plan,
             &w, 1);
    ++*layers_simulated;
    return true;
  }

  // As CudaOps::run_time_loop_pair: both directions in one launch where their paired plan fits.
  bool run_time_loop_pair(const engine::LayerProblem (&p)[2], const engine::LayerWeights<T> (&w)[2],
                          const engine::LayerBuffers<T> (&buf)[2], const engine::LayerForwardIO<T> (&io)[2]) {
    if (!pair_directions) return false;
    const engine::PersistentPlan plan = engine::plan_persistent_lstm_pair(problem(p[0]), device);
    if (!plan.fits) return false;
    simulate(engine::persistent_launch(plan, engine::persistent_args(plan, p[0], w[0], buf[0], io[0], staging, reduction),
                                       engine::persistent_args(plan, p[1], w[1], buf[1], io[1], staging, reduction)),
             plan, w, 2);
    *layers_simulated += 2;
    if (pairs_simulated != nullptr) ++*pairs_simulated;
    return true;
  }
};

// The Platform of engine::StandardBackend (host memory, like the cpu backend's).
class SimulatedPersistentPlatform {
 public:
  SimulatedPersistentPlatform(engine::DeviceLimits device, int* layers_simulated, int staging, int reduction,
                              bool pair_directions, int* pairs_simulated)
      : device_(std::move(device)),
        layers_simulated_(layers_simulated),
        staging_(staging),
        reduction_(reduction),
        pair_directions_(pair_directions),
        pairs_simulated_(pairs_simulated) {}
  const char* name() const { return "simulated-persistent"; }
  Device device() const { return Device::cpu(); }
  std::optional<std::string> unsupported_reason(const RNNDescriptor&, DType) const { return std::nullopt; }
  struct NoScope {};
  NoScope enter() const { return {}; }
  template <class T>
  SimulatedPersistentOps<T> ops(void*) const {
    SimulatedPersistentOps<T> o;
    o.device = device_;
    o.layers_simulated = layers_simulated_;
    o.staging = staging_;
    o.reduction = reduction_;
    o.pair_directions = pair_directions_;
    o.pairs_simulated = pairs_simulated_;
    return o;
  }
  engine::ReserveHeader read_header(const engine::ReserveHeader* header, void*) const { return *header; }
  // Half calls, as the cpu backend's (host memory).
  void widen_half(DType half, const void* src, float* dst, std::int64_t n, void*) const {
    detail::widen_half(half, src, dst, n);
  }
  void narrow_to_half(DType half, const float* src, void* dst, std::int64_t n, void*) const {
    detail::narrow_to_half(half, src, dst, n);
  }
  void synchronize(void*) const {}

 private:
  engine::DeviceLimits device_;
  int* layers_simulated_;
  int staging_;
  int reduction_;
  bool pair_directions_;
  int* pairs_simulated_;
};

// `staging`: engine::PersistentStaging, `reduction`: engine::PersistentReduction,
// `pair_directions`: both directions of a bidirectional layer in one launch where the plan on half
// the SMs fits, as the cuda algorithms persistent (vectors, scatter, paired),
// persistent_sequential_directions (vectors, scatter), persistent_full_reduce (vectors, full) and
// persistent_elementwise_stage (elements, full) choose them. `pairs_simulated`, when given,
// counts the paired launches.
inline std::unique_ptr<Backend> make_simulated_persistent_backend(engine::DeviceLimits device, int* layers_simulated,
                                                                  int staging = engine::kStageVectors,
                                                                  int reduction = engine::kReduceScatter,
                                                                  bool pair_directions = true,
                                                                  int* pairs_simulated = nullptr) {
  return std::make_unique<engine::StandardBackend<SimulatedPersistentPlatform>>(SimulatedPersistentPlatform(
      std::move(device), layers_simulated, staging, reduction, pair_directions, pairs_simulated));
}

}  // namespace gpurnn::testing
