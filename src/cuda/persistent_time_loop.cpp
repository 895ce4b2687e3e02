// The CUDA backend's choice of time loop per layer direction: the persistent kernel or the
// standard per-step loop (engine/layer_loop.h), from the algorithm and the persistent plan; in a
// bf16/f16 call, the persistent kernel with the call's half W_hh on chip.

#include <string>
#include <type_traits>

#include "cuda/cuda_ops.h"
#include "engine/persistent_args.h"
#include "kernels/persistent_lstm.h"
#include "gpurnn/error.h"

namespace gpurnn::cuda {

// `elem_size` is the call's element size: 4 (f32) and 8 (f64), or 2 for a bf16/f16 call, which
// computes in f32 with its half weights on chip (engine::persistent_problem of the dtype).
engine::PersistentPlan persistent_plan_for(const RNNDescriptor& desc, std::int64_t batch, std::size_t elem_size,
                                           const engine::DeviceLimits& device) {
  const engine::PersistentProblem problem = elem_size == 2 ? engine::persistent_problem(desc, batch, DType::bf16)
                                                           : engine::persistent_problem(desc, batch, elem_size);
  return engine::plan_persistent_lstm(problem, device);
}

namespace {

// Launches `launch` (arguments over the widened f32 weights) with W_hh read from the call's own
// half weights, `half_weights`, in the half kernel of `half` (bf16 or f16).
void launch_half(DType half, const kernels::PersistentLaunch<float>& launch, const void* const (&half_weights)[2],
                 const engine::PersistentPlan& plan, cudaStream_t stream) {
  const auto run = [&](auto tag) {
    using W = decltype(tag);
    kernels::PersistentLaunch<float, W> l{};
    for (int d = 0; d < 2; ++d) {
      l.dirs[d] = engine::with_weights(launch.dirs[d], static_cast<const W*>(half_weights[d]));
    }
    l.directions = launch.directions;
    l.ctas_per_direction = launch.ctas_per_direction;
    launch_persistent_lstm<float, W>(l, plan.threads, plan.shared_bytes, stream);
  };
  if (half == DType::bf16) return run(bfloat16{});
  run(float16{});
}

}  // namespace

template <class T>
bool CudaOps<T>::run_time_loop(const engine::LayerProblem& p, const engine::LayerWeights<T>& w,
                               const engine::LayerBuffers<T>& buf, const engine::LayerForwardIO<T>& io) {
  if (choice_ == nullptr || choice_->algorithm == CudaAlgorithm::standard) return false;
  // A bf16/f16 call (only ever on CudaOps<float>): the kernel keeps the call's half W_hh on chip
  // and rounds h_t to it each step (the precision rule), its plan counting 2-byte weights.
  const bool half = half_ != DType::f32;
  const engine::PersistentPlan plan =
      persistent_plan_for(*p.desc, p.batch, half ? dtype_size(half_) : sizeof(T), choice_->device);
  if (choice_->algorithm == CudaAlgorithm::automatic) {
    if (!engine::auto_prefers_persistent(plan, p.desc->hidden_size, p.batch)) return false;
  } else if (!plan.fits) {
    // The first layer direction refuses before its kernel: nothing of y, hn or cn is written.
    throw Error(ErrorCode::unsupported, "forward: algorithm 'persistent' cannot run B=" + std::to_string(p.batch) +
                                            " on " + choice_->device.name + ": " + plan.why_not);
  }
  // The variants the GPU run times side by side: the current kernel ("persistent", and "auto"),
  // its first reduction, and the first version as a whole.
  const bool first = choice_->algorithm == CudaAlgorithm::persistent_elementwise_stage;
  const int staging = first ? engine::kStageElements : engine::kStageVectors;
  const int reduction = first || choice_->algorithm == CudaAlgorithm::persistent_full_reduce ? engine::kReduceFull
                                                                                              : engine::kReduceScatter;
  const kernels::PersistentLaunch<T> launch =
      engine::persistent_launch(plan, engine::persistent_args(plan, p, w, buf, io, staging, reduction));
  if constexpr (std::is_same_v<T, float>) {
    if (half) {
      if (reduction != engine::kReduceScatter) {
        // Only the current kernel is instantiated with half weights (compile time).
        throw Error(ErrorCode::unsupported, "forward: algorithm '" +
                                                std::string(first ? "persistent_elementwise_stage"
                                                                  : "persistent_full_reduce") +
                                                "' does not run " + to_string(half_) +
                                                " (cuda 'persistent', 'persistent_sequential_directions', "
                                                "'standard' and 'auto' do)");
      }
      const void* weights = half_weights_of(w.w_hh);
      if (weights == nullptr) {
        throw Error(ErrorCode::internal, "forward: the persistent kernel found no " + std::string(to_string(half_)) +
                                             " copy of W_hh in a " + to_string(half_) + " call");
      }
      const void* const both[2] = {weights, weights};
      launch_half(half_, launch, both, plan, stream_);
      return true;
    }
  }
  launch_persistent_lstm<T>(launch, plan.threads, plan.shared_bytes, stream_);
  return true;
}

template <class T>
bool CudaOps<T>::run_time_loop_pair(const engine::LayerProblem (&p)[2], const engine::LayerWeights<T> (&w)[2],
                                    const engine::LayerBuffers<T> (&buf)[2],
                                    const engine::LayerForwardIO<T> (&io)[2]) {
  if (choice_ == nullptr ||
      (choice_->algorithm != CudaAlgorithm::persistent && choice_->algorithm != CudaAlgorithm::automatic)) {
    return false;
  }
  const bool half = half_ != DType::f32;
  // Each direction gets half the SMs; where that does not fit, each runs alone on all of them
  // (run_time_loop, which also gives 'persistent''s error when even that does not fit).
  const engine::PersistentProblem problem =
      half ? engine::persistent_problem(*p[0].desc, p[0].batch, half_)
           : engine::persistent_problem(*p[0].desc, p[0].batch, sizeof(T));
  const engine::PersistentPlan plan = engine::plan_persistent_lstm_pair(problem, choice_->device);
  if (!plan.fits) return false;
  if (choice_->algorithm == CudaAlgorithm::automatic &&
      !engine::auto_prefers_persistent(plan, p[0].desc->hidden_size, p[0].batch)) {
    return false;
  }
  // The current kernel (vector staging, reduce-scatter) for both directions.
  const kernels::PersistentLaunch<T> launch =
      engine::persistent_launch(plan, engine::persistent_args(plan, p[0], w[0], buf[0], io[0]),
                                engine::persistent_args(plan, p[1], w[1], buf[1], io[1]));
  if constexpr (std::is_same_v<T, float>) {
    if (half) {
      const void* const both[2] = {half_weights_of(w[0].w_hh), half_weights_of(w[1].w_hh)};
      if (both[0] == nullptr || both[1] == nullptr) return false;  // run_time_loop names the problem
      launch_half(half_, launch, both, plan, stream_);
      return true;
    }
  }
  launch_persistent_lstm<T>(launch, plan.threads, plan.shared_bytes, stream_);
  return true;
}

template bool CudaOps<float>::run_time_loop_pair(const engine::LayerProblem (&)[2],
                                                 const engine::LayerWeights<float> (&)[2],
                                                 const engine::LayerBuffers<float> (&)[2],
                                                 const engine::LayerForwardIO<float> (&)[2]);
template bool CudaOps<double>::run_time_loop_pair(const engine::LayerProblem (&)[2],
                                                  const engine::LayerWeights<double> (&)[2],
                                                  const engine::LayerBuffers<double> (&)[2],
                                                  const engine::LayerForwardIO<double> (&)[2]);
template bool CudaOps<float>::run_time_loop(const engine::LayerProblem&, const engine::LayerWeights<float>&,
                                            const engine::LayerBuffers<float>&,
                                            const engine::LayerForwardIO<float>&);
template bool CudaOps<double>::run_time_loop(const engine::LayerProblem&, const engine::LayerWeights<double>&,
                                             const engine::LayerBuffers<double>&,
                                             const engine::LayerForwardIO<double>&);

}  // namespace gpurnn::cuda
