// nccl_available and nccl_communicator of a build with MPI but without NCCL (CMake compiles
// src/cuda/nccl/nccl_communicator.cpp instead when CUDA, MPI and NCCL are all found).

#include <memory>

#include "gpurnn/error.h"
#include "gpurnn/train/communicator.h"

namespace gpurnn::train {

bool nccl_available() { return false; }

std::shared_ptr<Communicator> nccl_communicator(std::shared_ptr<Communicator>, Device) {
  throw Error(ErrorCode::unsupported,
              "nccl_communicator: this build has no NCCL (it needs CUDA, and nccl.h and libnccl next to the "
              "CUDA toolkit); CUDA ranks can use the MPI communicator, which copies through the host");
}

}  // namespace gpurnn::train
