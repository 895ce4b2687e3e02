// The per-step kernels of the standard algorithm: all gates of every sequence in one launch,
// using the cell math shared with the CPU backend (detail/cell_math.h).
//
// Every kernel here: a 1-D grid of ceil(rows*cols / 256) blocks of 256 threads; thread
// (row, col) = row_and_col(global index) owns one hidden unit (or state feature) of one
// sequence and touches only that unit's entries. No shared memory, no atomics: deterministic.
// Preconditions: the pointers of the step structs are device memory on the current device;
// lengths (if any) were staged to the device.

#include "step_kernels.h"

#include "cuda_status.h"
#include "gpurnn/detail/cell_math.h"
#include "gpurnn/detail/cell_traits.h"
#include "launch_shape.h"

namespace gpurnn::cuda {
namespace {

using kernels::row_and_col;

__device__ __forceinline__ bool is_active(const std::int32_t* lengths, std::int64_t b, std::int64_t t) {
  return lengths == nullptr || t < lengths[b];
}

__device__ __forceinline__ std::int64_t global_index() {
  return static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}

// Grid: [B, H] threads. Thread (b, j) applies every gate of unit j of sequence b in place in
// s.gates (input pre-activations in, saved gates out), writes c_next[b, j] and h_next[b, j]
// (or m[b, j] with projection); an inactive sequence gets zero gates and m, and keeps c.
template <class T>
__global__ void forward_step_kernel(detail::ForwardStep<T> s) {
  std::int64_t b = 0, j = 0;
  if (!row_and_col(global_index(), s.batch, s.hidden, &b, &j)) return;
  const std::int64_t H = s.hidden, gh = detail::cell_traits(s.cell).gates * H;
  T* gates = s.gates + b * s.gate_stride;
  if (!is_active(s.lengths, b, s.t)) {
    for (std::int64_t k = j; k < s.gate_stride; k += H) gates[k] = T(0);
    if (s.m) s.m[b * H + j] = T(0);
    if (s.c_next) s.c_next[b * H + j] = s.c_prev[b * H + j];
    return;
  }
  const detail::UnitForward<T> r =
      detail::cell_unit_forward(s.cell, H, j, gates, s.hh + b * gh, s.b_hh, s.h_prev + b * s.state,
                                s.c_prev ? s.c_prev + b * H : nullptr);
  if (s.c_next) s.c_next[b * H + j] = r.c;
  if (s.m) {
    s.m[b * H + j] = r.out;
  } else {
    s.h_next[b * s.state + j] = r.out;
  }
}

// Grid: [B, H_out] threads. Thread (b, k) writes y[b, k] = h_next[b, k] for an active sequence;
// an inactive one keeps its state (h_next = h_prev) and outputs 0.
template <class T>
__global__ void finish_forward_step_kernel(detail::StepOutput<T> s) {
  std::int64_t b = 0, k = 0;
  if (!row_and_col(global_index(), s.batch, s.state, &b, &k)) return;
  const std::int64_t at = b * s.state + k;
  if (is_active(s.lengths, b, s.t)) {
    s.y[b * s.ldy + k] = s.h_next[at];
  } else {
    s.h_next[at] = s.h_prev[at];
    s.y[b * s.ldy + k] = T(0);
  }
}

// Grid: [B, H_out] threads. Thread (b, k) writes dh[b, k] = carry[b, k] + dy[b, k] (active) or 0.
template <class T>
__global__ void output_gradient_kernel(detail::OutputGradient<T> s) {
  std::int64_t b = 0, k = 0;
  if (!row_and_col(global_index(), s.batch, s.state, &b, &k)) return;
  const std::int64_t at = b * s.state + k;
  s.dh[at] = is_active(s.lengths, b, s.t) ? s.carry[at] + s.dy[b * s.ldy + k] : T(0);
}

// Grid: [B, H] threads. Thread (b, j) computes the pre-activation gradients of unit j of
// sequence b (d_ih, d_hh rows), updates dc[b, j] (LSTM), and for j < H_out sets dh[b, j] to what
// reaches h_{t-1} outside W_hh: z ⊙ dh (GRU), 0 (others), the carry (inactive sequence). The
// only element of dh a thread reads is its own, before writing it.
template <class T>
__global__ void backward_step_kernel(detail::BackwardStep<T> s) {
  std::int64_t b = 0, j = 0;
  if (!row_and_col(global_index(), s.batch, s.hidden, &b, &j)) return;
  const std::int64_t H = s.hidden, Ho = s.state, G = detail::cell_traits(s.cell).gates, gh = G * H;
  T* d_ih = s.d_ih + b * gh;
  T* d_hh = s.d_hh ? s.d_hh + b * gh : nullptr;
  if (!is_active(s.lengths, b, s.t)) {
    for (std::int64_t k = 0; k < G; ++k) {
      d_ih[k * H + j] = T(0);
      if (d_hh) d_hh[k * H + j] = T(0);
    }
    if (j < Ho) s.dh[b * Ho + j] = s.carry[b * Ho + j];
    return;
  }
  const T grad = s.dm ? s.dm[b * H + j] : s.dh[b * Ho + j];
  const detail::UnitBackward<T> r = detail::cell_unit_backward(
      s.cell, H, j, s.gates + b * s.gate_stride, grad, s.h_prev + b * Ho,
      s.c_prev ? s.c_prev + b * H : nullptr, s.c_next ? s.c_next + b * H : nullptr,
      s.dc ? s.dc + b * H : nullptr, d_ih, d_hh);
  if (s.dc) s.dc[b * H + j] = r.dc_prev;
  if (j < Ho) s.dh[b * Ho + j] = r.dh_direct;
}

template <class Kernel, class Args>
void launch_over(Kernel kernel, std::int64_t rows, std::int64_t cols, const Args& args,
                 cudaStream_t stream, const char* name) {
  const kernels::LinearLaunch l = kernels::linear_launch(rows * cols);
  kernel<<<static_cast<unsigned>(l.blocks), l.threads, 0, stream>>>(args);
  check_launch(name);
}

}  // namespace

template <class T>
void launch_forward_step(const detail::ForwardStep<T>& s, cudaStream_t stream) {
  launch_over(forward_step_kernel<T>, s.batch, s.hidden, s, stream, "forward_step_kernel");
}

template <class T>
void launch_finish_forward_step(const detail::StepOutput<T>& s, cudaStream_t stream) {
  launch_over(finish_forward_step_kernel<T>, s.batch, s.state, s, stream, "finish_forward_step_kernel");
}

template <class T>
void launch_output_gradient(const detail::OutputGradient<T>& s, cudaStream_t stream) {
  launch_over(output_gradient_kernel<T>, s.batch, s.state, s, stream, "output_gradient_kernel");
}

template <class T>
void launch_backward_step(const detail::BackwardStep<T>& s, cudaStream_t stream) {
  launch_over(backward_step_kernel<T>, s.batch, s.hidden, s, stream, "backward_step_kernel");
}

#define GPURNN_INSTANTIATE_STEP_KERNELS(T)                                                    \
  template void launch_forward_step<T>(const detail::ForwardStep<T>&, cudaStream_t);          \
  template void launch_finish_forward_step<T>(const detail::StepOutput<T>&, cudaStream_t);    \
  template void launch_output_gradient<T>(const detail::OutputGradient<T>&, cudaStream_t);    \
  template void launch_backward_step<T>(const detail::BackwardStep<T>&, cudaStream_t);
GPURNN_INSTANTIATE_STEP_KERNELS(float)
GPURNN_INSTANTIATE_STEP_KERNELS(double)
#undef GPURNN_INSTANTIATE_STEP_KERNELS

}  // namespace gpurnn::cuda
