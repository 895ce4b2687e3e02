#pragma once
// The collectives data-parallel training needs, behind one small interface: every rank runs the
// same program on its shard of each global batch, and gradients are summed across ranks before
// the optimizer step (gpurnn/train/trainer.h, TrainConfig::communicator).
//
// Implementations: one process (every collective is a no-op); MPI (MPI_Allreduce / MPI_Bcast in
// place on host buffers, CUDA tensors copied through the host); NCCL for CUDA tensors
// (ncclAllReduce on the model's stream, its communicator bootstrapped through MPI). MPI and NCCL
// are private to libgpurnn: this header names neither.

#include <memory>
#include <string>

#include "gpurnn/tensor.h"

namespace gpurnn::train {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // The rank among the ranks of this machine (chooses the GPU of a rank).
  virtual int local_rank() const = 0;
  // What carries the collectives, for messages: "single process", "mpi", "nccl".
  virtual std::string name() const = 0;

  // data = the elementwise sum of every rank's data (same shape and dtype on every rank), in
  // place. `stream` is the cudaStream_t the data is produced and consumed on (CUDA tensors).
  virtual void allreduce_sum(TensorView data, void* stream = nullptr) = 0;
  // data = root's data on every rank, in place.
  virtual void broadcast(TensorView data, int root, void* stream = nullptr) = 0;
  // Ends every rank of the job with a non-zero exit: prints "gpurnn: rank R of N failed:
  // message" to stderr first. Never returns (one process: the message, then exit(1)).
  [[noreturn]] virtual void abort(const std::string& message) = 0;
};

// One rank, no communication.
std::shared_ptr<Communicator> single_process_communicator();

// True when this build has MPI (configured with -DGPURNN_MPI=AUTO/ON and MPI found).
bool mpi_available();
// The ranks of MPI_COMM_WORLD: initialises MPI on the first call (MPI_Init_thread, funneled: the
// collectives run on the calling thread) and finalises it at exit. Error(unsupported) in a build
// without MPI, saying how to get it.
std::shared_ptr<Communicator> mpi_world_communicator();
// True when this build has NCCL (CUDA and NCCL found next to the toolkit, and MPI).
bool nccl_available();
// An NCCL communicator over the ranks of `bootstrap` (its ncclUniqueId broadcast through it),
// for CUDA tensors on `device`, which this rank selects. Every rank must call it. abort() and the
// rank numbers are the bootstrap's. Error(unsupported) in a build without NCCL.
std::shared_ptr<Communicator> nccl_communicator(std::shared_ptr<Communicator> bootstrap, Device device);

}  // namespace gpurnn::train
