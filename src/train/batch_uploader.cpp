#include "train/batch_uploader.h"

#include <optional>

#include "gpurnn/error.h"
#if defined(GPURNN_HAVE_CUDA)
#include "cuda/cuda_batch_uploader.h"
#endif

namespace gpurnn::train {
namespace {

// The cpu device reads host batches where they are.
class HostBatchUploader final : public BatchUploader {
 public:
  void begin(const Batch& host) override {
    check_argument(!pending_.has_value(), "BatchUploader::begin", "host",
                   "a batch is already in flight; call finish() first");
    pending_ = host;
  }
  Batch finish(void* /*compute_stream*/) override {
    check_argument(pending_.has_value(), "BatchUploader::finish", "this", "no batch was begun");
    Batch out = std::move(*pending_);
    pending_.reset();
    return out;
  }

 private:
  std::optional<Batch> pending_;
};

}  // namespace

std::unique_ptr<BatchUploader> make_batch_uploader(Device device) {
  if (device.is_cpu()) return std::make_unique<HostBatchUploader>();
#if defined(GPURNN_HAVE_CUDA)
  return cuda::make_cuda_batch_uploader(device);
#else
  throw Error(ErrorCode::unsupported, "make_batch_uploader: device '" + to_string(device) +
                                          "' is not available: this build has no CUDA");
#endif
}

}  // namespace gpurnn::train
