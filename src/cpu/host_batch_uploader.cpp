#include "cpu/host_batch_uploader.h"

#include <optional>

#include "gpurnn/error.h"

namespace gpurnn::cpu {
namespace {

// The cpu device reads host batches where they are.
class HostBatchUploader final : public train::BatchUploader {
 public:
  void begin(const train::Batch& host) override {
    check_argument(!pending_.has_value(), "BatchUploader::begin", "host",
                   "a batch is already in flight; call finish() first");
    pending_ = host;
  }
  train::Batch finish(void* /*compute_stream*/) override {
    check_argument(pending_.has_value(), "BatchUploader::finish", "this", "no batch was begun");
    train::Batch out = std::move(*pending_);
    pending_.reset();
    return out;
  }

 private:
  std::optional<train::Batch> pending_;
};

}  // namespace

std::unique_ptr<train::BatchUploader> make_host_batch_uploader(Device /*device*/) {
  return std::make_unique<HostBatchUploader>();
}

}  // namespace gpurnn::cpu
