// The MPI communicator over MPI_COMM_WORLD (compiled only when CMake found MPI: GPURNN_MPI).
// Collectives run in place on host buffers; a CUDA tensor is copied to the host, reduced and
// copied back (no reliance on a CUDA-aware MPI; GPU ranks use the NCCL communicator instead).

#include <mpi.h>

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <mutex>

#include "gpurnn/error.h"
#include "gpurnn/train/communicator.h"

namespace gpurnn::train {
namespace {

void check_mpi(int status, const char* what) {
  if (status == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(status, text, &length);
  throw Error(ErrorCode::backend_error, std::string(what) + " failed: " + std::string(text, length));
}

MPI_Datatype mpi_type(DType dtype, const char* function) {
  switch (dtype) {
    case DType::f32: return MPI_FLOAT;
    case DType::f64: return MPI_DOUBLE;
    case DType::i32: return MPI_INT32_T;
    case DType::i64: return MPI_INT64_T;
    case DType::u8: return MPI_UINT8_T;
    case DType::bf16:
    case DType::f16: break;  // MPI has no 16-bit float type to sum (mixed precision sums f32)
  }
  check_argument(false, function, "data", std::string("has dtype ") + to_string(dtype) + ", which MPI cannot carry");
  return MPI_DATATYPE_NULL;
}

// MPI counts are int: a buffer larger than INT_MAX elements is refused rather than truncated.
int mpi_count(std::int64_t numel, const char* function) {
  check_argument(numel <= std::numeric_limits<int>::max(), function, "data",
                 "has " + std::to_string(numel) + " elements; one MPI collective carries at most 2^31-1");
  return static_cast<int>(numel);
}

// Runs `collective` on a host buffer holding `data`: the data itself on the CPU, a host copy
// (copied back afterwards) for a CUDA tensor.
template <typename Collective>
void on_host_buffer(TensorView data, Collective&& collective) {
  if (data.device().is_cpu()) {
    collective(data.data());
    return;
  }
  Tensor host = Tensor::empty(data.shape(), data.dtype());
  copy_into(data, host.view());
  collective(host.data());
  copy_into(host.view(), data);
}

void finalize_at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

class MpiWorld final : public Communicator {
 public:
  MpiWorld() {
    int initialized = 0;
    check_mpi(MPI_Initialized(&initialized), "MPI_Initialized");
    if (!initialized) {
      int provided = 0;
      check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
      std::atexit(finalize_at_exit);
    }
    // Errors come back as codes (and become gpurnn::Error) instead of ending the process silently.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    check_mpi(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
    check_mpi(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
    MPI_Comm local = MPI_COMM_NULL;
    check_mpi(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local),
              "MPI_Comm_split_type");
    check_mpi(MPI_Comm_rank(local, &local_rank_), "MPI_Comm_rank");
    MPI_Comm_free(&local);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  std::string name() const override { return "mpi"; }

  void allreduce_sum(TensorView data, void*) override {
    const MPI_Datatype type = mpi_type(data.dtype(), "Communicator::allreduce_sum");
    const int count = mpi_count(data.numel(), "Communicator::allreduce_sum");
    on_host_buffer(data, [&](void* buffer) {
      check_mpi(MPI_Allreduce(MPI_IN_PLACE, buffer, count, type, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
    });
  }

  void broadcast(TensorView data, int root, void*) override {
    check_argument(root >= 0 && root < size_, "Communicator::broadcast", "root",
                   "must be a rank in [0, " + std::to_string(size_) + "), got " + std::to_string(root));
    const MPI_Datatype type = mpi_type(data.dtype(), "Communicator::broadcast");
    const int count = mpi_count(data.numel(), "Communicator::broadcast");
    on_host_buffer(data, [&](void* buffer) {
      check_mpi(MPI_Bcast(buffer, count, type, root, MPI_COMM_WORLD), "MPI_Bcast");
    });
  }

  [[noreturn]] void abort(const std::string& message) override {
    std::fprintf(stderr, "gpurnn: rank %d of %d failed: %s\n", rank_, size_, message.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
    std::_Exit(1);  // MPI_Abort does not return; this only satisfies [[noreturn]]
  }

 private:
  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
};

}  // namespace

bool mpi_available() { return true; }

std::shared_ptr<Communicator> mpi_world_communicator() {
  // One per process: MPI cannot be initialised again after it is finalised.
  static std::mutex mutex;
  static std::shared_ptr<Communicator> world;
  const std::lock_guard<std::mutex> lock(mutex);
  if (!world) world = std::make_shared<MpiWorld>();
  return world;
}

}  // namespace gpurnn::train
