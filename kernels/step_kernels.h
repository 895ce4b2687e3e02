#pragma once
// The launchers of the standard algorithm's kernels on CUDA (kernels/step_kernels.cu, the
// per-step cell kernels, and kernels/elementwise_kernels.cu): device pointers and sizes in (the
// step structs of gpurnn/detail/step_args.h are plain pointers and sizes), the stream last. Each queues its kernel
// on `stream` and throws Error(backend_error) when the launch is refused; none synchronises.

#include <cuda_runtime.h>

#include <cstdint>

#include "gpurnn/detail/step_args.h"

namespace gpurnn::cuda {

// Every gate of every sequence of one step in one launch (the Ops contract of src/engine/step_ops.h).
template <class T>
void launch_forward_step(const detail::ForwardStep<T>& s, cudaStream_t stream);
template <class T>
void launch_finish_forward_step(const detail::StepOutput<T>& s, cudaStream_t stream);
template <class T>
void launch_output_gradient(const detail::OutputGradient<T>& s, cudaStream_t stream);
template <class T>
void launch_backward_step(const detail::BackwardStep<T>& s, cudaStream_t stream);

// rows[r * ld + j] += bias[j] for r < count, j < n.
template <class T>
void launch_add_bias_rows(T* rows, std::int64_t count, std::int64_t n, std::int64_t ld, const T* bias,
                          cudaStream_t stream);
// dst [b, a, f] from src [a, b, f].
template <class T>
void launch_transpose_leading(const T* src, T* dst, std::int64_t a, std::int64_t b, std::int64_t f,
                              cudaStream_t stream);
// values[k] scaled by its dropout mask element, the same function of (seed, layer, k) as on the CPU.
template <class T>
void launch_dropout(T* values, std::int64_t count, std::uint64_t seed, int layer, double p, cudaStream_t stream);

}  // namespace gpurnn::cuda
