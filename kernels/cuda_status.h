#pragma once
// Every CUDA runtime and cuBLAS status becomes the library's Error (internal header; host code
// under src/cuda and kernels/ only — the public headers name no CUDA type).
//
//   GPURNN_CUDA_CHECK(cudaMemcpyAsync(...));    Error(backend_error, "cudaMemcpyAsync(...) failed:
//                                               cudaErrorInvalidValue: invalid argument")
//   GPURNN_CUBLAS_CHECK(cublasSgemm(...));      likewise with the cuBLAS status name and text
//   my_kernel<<<grid, block, smem, stream>>>(...);
//   check_launch("my_kernel");                  a bad launch configuration, as an Error
//
// Allocation failures (cudaErrorMemoryAllocation, CUBLAS_STATUS_ALLOC_FAILED) become
// Error(out_of_memory). A failing status is also cleared from the runtime's last-error slot, so
// a later check_launch() does not report it again (sticky errors, which corrupt the context,
// cannot be cleared and keep failing every call, as CUDA intends).

#include <cublas_v2.h>
#include <cuda_runtime.h>

namespace gpurnn::cuda {

// Throws unless status == cudaSuccess. `call` names what failed (the expression, or a function).
void check_cuda(cudaError_t status, const char* call);
// Throws unless status == CUBLAS_STATUS_SUCCESS.
void check_cublas(cublasStatus_t status, const char* call);
// After a kernel launch: throws Error(backend_error, "<kernel> launch failed: ...") when the
// launch was refused (bad configuration, too much shared memory, no kernel image for this GPU).
// Does not synchronise, so errors while the kernel runs surface at a later checked call.
void check_launch(const char* kernel);

// "cudaErrorNoDevice: no CUDA-capable device is detected"
const char* error_name(cudaError_t status);
const char* error_string(cudaError_t status);

}  // namespace gpurnn::cuda

#define GPURNN_CUDA_CHECK(expr) ::gpurnn::cuda::check_cuda((expr), #expr)
#define GPURNN_CUBLAS_CHECK(expr) ::gpurnn::cuda::check_cublas((expr), #expr)
