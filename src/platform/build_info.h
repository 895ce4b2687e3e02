#pragma once
// What this build of libgpurnn has beyond CUDA (gpurnn/device.h) and MPI
// (gpurnn/train/communicator.h), asked of the library actually linked: its GPURNN_HAVE_* macros
// are private to it. For `gpurnn info`; each answer is a platform's library_version.

#include <string>

namespace gpurnn::detail {

// The version of the oneDNN the cpu backend's f32 GEMMs run on ("2.6.3"); empty in a build
// without oneDNN (src/cpu/packed_gemm.h).
std::string onednn_version();
// The version of the cuDNN library loaded ("9.19.0"), which the cudnn backend runs on; empty in a
// build without cuDNN. Needs no device.
std::string cudnn_version();

}  // namespace gpurnn::detail
