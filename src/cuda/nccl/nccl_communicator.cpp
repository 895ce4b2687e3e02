// The NCCL communicator (compiled only with CUDA, MPI and NCCL: GPURNN_HAVE_NCCL). Its
// ncclUniqueId is made on rank 0 and broadcast through the bootstrap (MPI) communicator, then
// every rank joins with ncclCommInitRank on its own device (rank 0 broadcasts ncclGetUniqueId's
// status with the id, so a failure there reaches every rank instead of leaving them in the
// broadcast). Collectives are enqueued on the caller's stream (the model's), so they order with
// the backward pass and the optimizer step; each returns once its stream is done, polling
// ncclCommGetAsyncError while it waits (collective_wait.h): a peer that dies aborts the job
// instead of hanging it. Compiled here; run only on a GPU machine (bench/gpu_check.sh).

#include <cuda_runtime.h>
#include <nccl.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "kernels/cuda_status.h"
#include "cuda/device_guard.h"
#include "cuda/nccl/collective_wait.h"
#include "gpurnn/error.h"
#include "gpurnn/train/communicator.h"

namespace gpurnn::train {
namespace {

void check_nccl(ncclResult_t status, const char* what) {
  if (status == ncclSuccess) return;
  throw Error(ErrorCode::backend_error, std::string(what) + " failed: " + ncclGetErrorString(status));
}

ncclDataType_t nccl_type(DType dtype, const char* function) {
  switch (dtype) {
    case DType::f32: return ncclFloat32;
    case DType::f64: return ncclFloat64;
    case DType::i32: return ncclInt32;
    case DType::i64: return ncclInt64;
    case DType::u8: return ncclUint8;
    case DType::bf16: return ncclBfloat16;
    case DType::f16: return ncclFloat16;
  }
  check_argument(false, function, "data", std::string("has dtype ") + to_string(dtype) + ", which NCCL cannot carry");
  return ncclFloat32;
}

class Nccl final : public Communicator {
 public:
  Nccl(std::shared_ptr<Communicator> bootstrap, Device device) : bootstrap_(std::move(bootstrap)), device_(device) {
    check_argument(device.kind == DeviceKind::cuda, "nccl_communicator", "device",
                   "must be a CUDA device, got " + to_string(device));
    // Rank 0's id and the status of making it, in one broadcast: every rank learns of a failure.
    struct {
      ncclUniqueId id;
      std::int32_t status;
    } made;
    std::memset(&made, 0, sizeof made);
    if (bootstrap_->rank() == 0) made.status = static_cast<std::int32_t>(ncclGetUniqueId(&made.id));
    bootstrap_->broadcast(TensorView(&made, Shape{static_cast<std::int64_t>(sizeof made)}, DType::u8), 0);
    const auto made_status = static_cast<ncclResult_t>(made.status);
    if (made_status != ncclSuccess) {
      throw Error(ErrorCode::backend_error,
                  std::string("ncclGetUniqueId failed on rank 0: ") + ncclGetErrorString(made_status));
    }
    cuda::DeviceGuard guard(device.index);
    check_nccl(ncclCommInitRank(&comm_, bootstrap_->size(), made.id, bootstrap_->rank()), "ncclCommInitRank");
  }
  ~Nccl() override {
    if (comm_ != nullptr) ncclCommDestroy(comm_);
  }

  int rank() const override { return bootstrap_->rank(); }
  int size() const override { return bootstrap_->size(); }
  int local_rank() const override { return bootstrap_->local_rank(); }
  std::string name() const override { return "nccl"; }

  void allreduce_sum(TensorView data, void* stream) override {
    if (data.device().is_cpu()) return bootstrap_->allreduce_sum(data, stream);
    check_device(data, "Communicator::allreduce_sum");
    const ncclDataType_t type = nccl_type(data.dtype(), "Communicator::allreduce_sum");
    cuda::DeviceGuard guard(device_.index);
    check_nccl(ncclAllReduce(data.data(), data.data(), static_cast<std::size_t>(data.numel()), type, ncclSum, comm_,
                             static_cast<cudaStream_t>(stream)),
               "ncclAllReduce");
    wait(static_cast<cudaStream_t>(stream), "ncclAllReduce");
  }

  void broadcast(TensorView data, int root, void* stream) override {
    if (data.device().is_cpu()) return bootstrap_->broadcast(data, root, stream);
    check_device(data, "Communicator::broadcast");
    check_argument(root >= 0 && root < size(), "Communicator::broadcast", "root",
                   "must be a rank in [0, " + std::to_string(size()) + "), got " + std::to_string(root));
    const ncclDataType_t type = nccl_type(data.dtype(), "Communicator::broadcast");
    cuda::DeviceGuard guard(device_.index);
    check_nccl(ncclBroadcast(data.data(), data.data(), static_cast<std::size_t>(data.numel()), type, root, comm_,
                             static_cast<cudaStream_t>(stream)),
               "ncclBroadcast");
    wait(static_cast<cudaStream_t>(stream), "ncclBroadcast");
  }

  [[noreturn]] void abort(const std::string& message) override {
    if (comm_ != nullptr) ncclCommAbort(comm_);  // no rank waits in a collective of ours any longer
    comm_ = nullptr;
    bootstrap_->abort(message);
    std::_Exit(1);  // not reached: the bootstrap's abort ends the job
  }

 private:
  // Until `stream` (and so the collective just queued on it) is done, polling the communicator's
  // asynchronous error: a dead peer aborts the job here instead of blocking every rank forever.
  // The caller holds the DeviceGuard.
  void wait(cudaStream_t stream, const char* what) {
    CollectiveWait w;
    w.done = [stream] {
      const cudaError_t status = cudaStreamQuery(stream);
      if (status == cudaErrorNotReady) return false;
      cuda::check_cuda(status, "cudaStreamQuery");
      return true;
    };
    w.async_error = [this]() -> std::string {
      ncclResult_t async = ncclSuccess;
      check_nccl(ncclCommGetAsyncError(comm_, &async), "ncclCommGetAsyncError");
      return async == ncclSuccess || async == ncclInProgress ? std::string() : ncclGetErrorString(async);
    };
    w.abort = [this](const std::string& message) { abort(message); };
    wait_for_collective(w, what);
  }

  void check_device(ConstTensorView data, const char* function) const {
    check_argument(data.device() == device_, function, "data",
                   "is on " + to_string(data.device()) + ", but this NCCL communicator serves " + to_string(device_));
  }

  std::shared_ptr<Communicator> bootstrap_;
  Device device_;
  ncclComm_t comm_ = nullptr;
};

}  // namespace

bool nccl_available() { return true; }

std::shared_ptr<Communicator> nccl_communicator(std::shared_ptr<Communicator> bootstrap, Device device) {
  check_argument(bootstrap != nullptr, "nccl_communicator", "bootstrap", "is null");
  return std::make_shared<Nccl>(std::move(bootstrap), device);
}

}  // namespace gpurnn::train
