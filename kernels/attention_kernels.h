#pragma once
// Launchers of the attention kernels (internal header; kernels/attention_kernels.cu): masking,
// row softmax and its backward, tanh, add_scaled, and Bahdanau's additive scores with their
// gradients. The batched dot products are cuBLAS (src/cuda/batched_gemm.h), not here. Each
// launcher takes raw device pointers and sizes, the stream last, queues its work there, checks
// the launch and does not synchronise. T is float or double. Formulas are those of the cpu ops
// (src/cpu/cpu_attention_ops.h): computed in double, rounded to T once. Tensors are
// time-major: query [T, B, A], keys [S, B, A], scores [T, B, S]. Nothing here uses atomics;
// every result is deterministic.

#include <cuda_runtime.h>

#include <cstdint>

namespace gpurnn::cuda {

// scores[t, b, s] = -infinity where s >= lengths[b] (lengths null: none) or excluded[t, b, s]
// != 0 (excluded null: none); other elements untouched. Lengths are not range-checked: a length
// above S masks nothing by length, one below 1 masks the whole row.
template <class T>
void launch_mask_scores(T* scores, const std::int32_t* lengths, const std::uint8_t* excluded,
                        std::int64_t t, std::int64_t b, std::int64_t s, cudaStream_t stream);
// y[r, :] = softmax(x[r, :]) for rows r < rows of `cols` values; -infinity entries give 0 and a
// row of only -infinity gives zeros. y may be x.
template <class T>
void launch_softmax_rows(const T* x, std::int64_t rows, std::int64_t cols, T* y, cudaStream_t stream);
// dx[r, :] = y[r, :] * (dy[r, :] - dy[r, :] . y[r, :]); dx may be dy.
template <class T>
void launch_softmax_backward_rows(const T* y, const T* dy, std::int64_t rows, std::int64_t cols, T* dx,
                                  cudaStream_t stream);
// y[i] = tanh(x[i]); y may be x.
template <class T>
void launch_tanh_forward(const T* x, std::int64_t count, T* y, cudaStream_t stream);
// dx[i] = dy[i] * (1 - y[i]^2); dx may be dy.
template <class T>
void launch_tanh_backward(const T* y, const T* dy, std::int64_t count, T* dx, cudaStream_t stream);
// y[i] = T(double(y[i]) + alpha * double(x[i]))
template <class T>
void launch_add_scaled(const T* x, std::int64_t count, double alpha, T* y, cudaStream_t stream);
// scores[t, b, s] = sum_a v[a] * tanh(keys[s, b, a] + query[t, b, a])
template <class T>
void launch_additive_scores(const T* query, const T* keys, const T* v, std::int64_t t, std::int64_t b,
                            std::int64_t s, std::int64_t a, T* scores, cudaStream_t stream);
// TrainOps::additive_scores_backward: each of dquery [T, B, A], dkeys [S, B, A], dv [A] may be
// null (not wanted); the others are overwritten, or added to when accumulate.
template <class T>
void launch_additive_scores_backward(const T* query, const T* keys, const T* v, const T* dscores,
                                     std::int64_t t, std::int64_t b, std::int64_t s, std::int64_t a,
                                     T* dquery, T* dkeys, T* dv, bool accumulate, cudaStream_t stream);

}  // namespace gpurnn::cuda
