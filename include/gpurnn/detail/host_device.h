#pragma once
// Portability for code shared by the CPU path and CUDA kernels: the one place that knows
// whether it is being compiled by nvcc.

#if defined(__CUDACC__)
#define GPURNN_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define GPURNN_HOST_DEVICE inline
#endif

// `#pragma unroll` in device code, nothing in host code (a host compiler would warn about it).
#if defined(__CUDA_ARCH__)
#define GPURNN_UNROLL _Pragma("unroll")
#else
#define GPURNN_UNROLL
#endif
