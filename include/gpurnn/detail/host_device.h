#pragma once
// Portability for code shared by the CPU path and CUDA kernels: the one place that knows
// whether it is being compiled by nvcc.

#if defined(__CUDACC__)
#define GPURNN_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define GPURNN_HOST_DEVICE inline
#endif

// `#pragma unroll` for device code, nothing for a host compiler (which would warn about it).
#if defined(__CUDACC__)
#define GPURNN_UNROLL _Pragma("unroll")
#else
#define GPURNN_UNROLL
#endif
