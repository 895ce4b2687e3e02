#pragma once
// Truncated-BPTT batches over a stream of documents (see stream_plan.h for the lanes and
// chunks): batch i is chunk (i mod chunks_per_lane) of every lane, rows = lanes, steps = k.
// Row r reads x_t = stream[start + t] for t < length and predicts the next symbol (tokens) or
// the next `horizon` values (values); steps at or past the length are padding (targets
// kIgnoreTarget or zero). carry_state[r] is the chunk's carry flag. Epochs repeat the same
// chunks; the first chunk of every epoch starts fresh.

#include <cstdint>
#include <memory>
#include <vector>

#include "gpurnn/train/batch.h"
#include "tasks/stream_plan.h"

namespace gpurnn::train::tasks {

class StreamSource : public BatchSource {
 public:
  // Tokens in [0, vocabulary), a byte each (vocabulary <= 256): inputs i32 [k, lanes], targets
  // step_classes i32 [k, lanes].
  static std::unique_ptr<StreamSource> over_tokens(
      std::shared_ptr<const std::vector<std::uint8_t>> tokens,
      const std::vector<std::int64_t>& document_ends, std::int64_t vocabulary, std::int64_t lanes,
      std::int64_t steps);
  // One value per step: inputs f32 [k, lanes, 1], targets step_values f32 [k, lanes, horizon].
  static std::unique_ptr<StreamSource> over_values(
      std::shared_ptr<const std::vector<float>> values,
      const std::vector<std::int64_t>& document_ends, std::int64_t lanes, std::int64_t steps,
      std::int64_t horizon);

  std::int64_t batches_per_epoch() const override { return plan_.chunks_per_lane(); }
  Batch batch(std::int64_t index) const override;
  const StreamPlan& plan() const { return plan_; }
  const ModelInterface& interface() const { return interface_; }

 private:
  StreamSource(std::shared_ptr<const std::vector<std::uint8_t>> tokens,
               std::shared_ptr<const std::vector<float>> values,
               const std::vector<std::int64_t>& document_ends, ModelInterface interface,
               std::int64_t lanes, std::int64_t steps, std::int64_t horizon);

  std::shared_ptr<const std::vector<std::uint8_t>> tokens_;  // one of tokens_ and values_
  std::shared_ptr<const std::vector<float>> values_;
  ModelInterface interface_;
  StreamPlan plan_;
};

}  // namespace gpurnn::train::tasks
