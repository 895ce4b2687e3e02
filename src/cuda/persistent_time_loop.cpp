// The CUDA backend's choice of time loop per layer direction: the persistent kernel or the
// standard per-step loop (engine/layer_loop.h), from the algorithm and the persistent plan.

#include "cuda/cuda_ops.h"
#include "engine/persistent_args.h"
#include "kernels/persistent_lstm.h"
#include "gpurnn/error.h"

namespace gpurnn::cuda {

engine::PersistentPlan persistent_plan_for(const RNNDescriptor& desc, std::int64_t batch, std::size_t elem_size,
                                           const engine::DeviceLimits& device) {
  return engine::plan_persistent_lstm(engine::persistent_problem(desc, batch, elem_size), device);
}

template <class T>
bool CudaOps<T>::run_time_loop(const engine::LayerProblem& p, const engine::LayerWeights<T>& w,
                               const engine::LayerBuffers<T>& buf, const engine::LayerForwardIO<T>& io) {
  if (choice_ == nullptr || choice_->algorithm == CudaAlgorithm::standard) return false;
  const engine::PersistentPlan plan = persistent_plan_for(*p.desc, p.batch, sizeof(T), choice_->device);
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
  launch_persistent_lstm<T>(engine::persistent_launch(plan, engine::persistent_args(plan, p, w, buf, io, staging, reduction)),
                            plan.threads, plan.shared_bytes, stream_);
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
  // Each direction gets half the SMs; where that does not fit, each runs alone on all of them
  // (run_time_loop, which also gives 'persistent''s error when even that does not fit).
  const engine::PersistentPlan plan =
      engine::plan_persistent_lstm_pair(engine::persistent_problem(*p[0].desc, p[0].batch, sizeof(T)), choice_->device);
  if (!plan.fits) return false;
  if (choice_->algorithm == CudaAlgorithm::automatic &&
      !engine::auto_prefers_persistent(plan, p[0].desc->hidden_size, p[0].batch)) {
    return false;
  }
  // The current kernel (vector staging, reduce-scatter) for both directions.
  launch_persistent_lstm<T>(engine::persistent_launch(plan, engine::persistent_args(plan, p[0], w[0], buf[0], io[0]),
                                                      engine::persistent_args(plan, p[1], w[1], buf[1], io[1])),
                            plan.threads, plan.shared_bytes, stream_);
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
