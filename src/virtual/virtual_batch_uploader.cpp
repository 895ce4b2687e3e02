#include "virtual/virtual_batch_uploader.h"

#include <array>
#include <optional>

#include "gpurnn/error.h"
#include "virtual/virtual_memory.h"

namespace gpurnn::vdev {
namespace {

constexpr const char* kBegin = "BatchUploader::begin";

class VirtualBatchUploader final : public train::BatchUploader {
 public:
  explicit VirtualBatchUploader(Device device) : device_(device) {}

  void begin(const train::Batch& host) override {
    check_argument(!pending_.has_value(), kBegin, "host", "a batch is already in flight; call finish() first");
    const std::array<std::pair<const Tensor*, const char*>, 3> sources = {
        {{&host.inputs, "host.inputs"}, {&host.targets, "host.targets"}, {&host.lengths, "host.lengths"}}};
    for (const auto& [t, name] : sources) {
      const Tensor* tensor = t;  // a lambda cannot capture a structured binding (C++17)
      check_argument(!tensor->defined() || tensor->device().is_cpu(), kBegin, name,
                     [&] { return "is on " + to_string(tensor->device()) + ", expected a CPU tensor"; });
    }
    train::Batch device;
    device.carry_state = host.carry_state;
    device.inputs = upload(host.inputs);
    device.targets = upload(host.targets);
    device.lengths = host.lengths;
    device.device_lengths = upload(host.lengths);
    pending_ = std::move(device);
  }

  train::Batch finish(void* /*compute_stream*/) override {
    check_argument(pending_.has_value(), "BatchUploader::finish", "this", "no batch was begun");
    train::Batch out = std::move(*pending_);
    pending_.reset();
    return out;
  }

 private:
  Tensor upload(const Tensor& host) const { return host.defined() ? host.to(device_) : Tensor(); }

  Device device_;
  std::optional<train::Batch> pending_;
};

}  // namespace

std::unique_ptr<train::BatchUploader> make_virtual_batch_uploader(Device device) {
  require_virtual_device(device, "make_batch_uploader");
  return std::make_unique<VirtualBatchUploader>(device);
}

}  // namespace gpurnn::vdev
