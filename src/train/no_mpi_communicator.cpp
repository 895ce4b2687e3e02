// The MPI and NCCL entry points of a build without MPI (compiled when GPURNN_MPI is OFF or MPI
// was not found; with MPI, src/train/mpi_communicator.cpp defines them).

#include "gpurnn/error.h"
#include "gpurnn/train/communicator.h"

namespace gpurnn::train {

bool mpi_available() { return false; }
bool nccl_available() { return false; }

std::shared_ptr<Communicator> mpi_world_communicator() {
  throw Error(ErrorCode::unsupported,
              "distributed training needs MPI, and this build has none: install an MPI (Debian: apt-get install "
              "libopenmpi-dev openmpi-bin) and configure with -DGPURNN_MPI=ON (or AUTO)");
}

std::shared_ptr<Communicator> nccl_communicator(std::shared_ptr<Communicator>, Device) {
  throw Error(ErrorCode::unsupported, "nccl_communicator: this build has no MPI, so no NCCL bootstrap");
}

}  // namespace gpurnn::train
