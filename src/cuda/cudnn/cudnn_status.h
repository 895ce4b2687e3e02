#pragma once
// Every cuDNN status becomes the library's Error (internal header; the public headers name no
// cuDNN type).
//
//   GPURNN_CUDNN_CHECK(cudnnRNNForward(...));   Error(backend_error, "cudnnRNNForward(...) failed:
//                                               CUDNN_STATUS_BAD_PARAM: ...")
//
// CUDNN_STATUS_NOT_SUPPORTED (and its sub-codes) becomes Error(unsupported, "not supported by
// cuDNN: <call> ..."), CUDNN_STATUS_ALLOC_FAILED Error(out_of_memory); the message carries
// cudnnGetErrorString's text and, when cuDNN recorded one, cudnnGetLastErrorString's detail.

#include <cudnn.h>

namespace gpurnn::cuda {

// Throws unless status == CUDNN_STATUS_SUCCESS. `call` names what failed.
void check_cudnn(cudnnStatus_t status, const char* call);

}  // namespace gpurnn::cuda

#define GPURNN_CUDNN_CHECK(expr) ::gpurnn::cuda::check_cudnn((expr), #expr)
