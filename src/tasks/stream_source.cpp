#include "tasks/stream_source.h"

#include <string>

#include "gpurnn/error.h"
#include "tasks/new_batch.h"

namespace gpurnn::train::tasks {

StreamSource::StreamSource(std::shared_ptr<const std::vector<std::uint8_t>> tokens,
                           std::shared_ptr<const std::vector<float>> values,
                           const std::vector<std::int64_t>& document_ends,
                           ModelInterface interface, std::int64_t lanes, std::int64_t steps,
                           std::int64_t horizon)
    : tokens_(std::move(tokens)),
      values_(std::move(values)),
      interface_(interface),
      plan_(document_ends, lanes, steps, horizon) {
  const std::size_t size = tokens_ ? tokens_->size() : values_->size();
  check_argument(!document_ends.empty() && document_ends.back() == static_cast<std::int64_t>(size),
                 "StreamSource", "document_ends",
                 "must end at the stream's size " + std::to_string(size));
}

std::unique_ptr<StreamSource> StreamSource::over_tokens(
    std::shared_ptr<const std::vector<std::uint8_t>> tokens,
    const std::vector<std::int64_t>& document_ends, std::int64_t vocabulary, std::int64_t lanes,
    std::int64_t steps) {
  check_argument(tokens != nullptr, "StreamSource::over_tokens", "tokens", "is null");
  check_argument(vocabulary >= 1 && vocabulary <= 256, "StreamSource::over_tokens", "vocabulary",
                 "must be in [1, 256] (a token is a byte), got " + std::to_string(vocabulary));
  const ModelInterface interface{InputKind::tokens, vocabulary, TargetKind::step_classes,
                                 vocabulary};
  return std::unique_ptr<StreamSource>(
      new StreamSource(std::move(tokens), nullptr, document_ends, interface, lanes, steps, 1));
}

std::unique_ptr<StreamSource> StreamSource::over_values(
    std::shared_ptr<const std::vector<float>> values,
    const std::vector<std::int64_t>& document_ends, std::int64_t lanes, std::int64_t steps,
    std::int64_t horizon) {
  check_argument(values != nullptr, "StreamSource::over_values", "values", "is null");
  const ModelInterface interface{InputKind::features, 1, TargetKind::step_values, horizon};
  return std::unique_ptr<StreamSource>(
      new StreamSource(nullptr, std::move(values), document_ends, interface, lanes, steps, horizon));
}

Batch StreamSource::batch(std::int64_t index) const {
  check_argument(index >= 0, "StreamSource::batch", "index",
                 "must be non-negative, got " + std::to_string(index));
  const std::int64_t chunk_index = index % plan_.chunks_per_lane();
  const std::int64_t steps = plan_.steps();
  const std::int64_t rows = plan_.lanes();
  Batch batch = new_batch(interface_, steps, rows);
  batch.carry_state.resize(static_cast<std::size_t>(rows));
  std::int32_t* lengths = batch.lengths.data_as<std::int32_t>();
  const std::int64_t horizon = interface_.output_size;
  for (std::int64_t row = 0; row < rows; ++row) {
    const StreamChunk& chunk = plan_.chunk(row, chunk_index);
    lengths[row] = static_cast<std::int32_t>(chunk.length);
    batch.carry_state[static_cast<std::size_t>(row)] = chunk.carry ? 1 : 0;
    for (std::int64_t t = 0; t < chunk.length; ++t) {
      const std::size_t p = static_cast<std::size_t>(chunk.start + t);
      if (tokens_) {
        batch.inputs.data_as<std::int32_t>()[t * rows + row] = (*tokens_)[p];
        batch.targets.data_as<std::int32_t>()[t * rows + row] = (*tokens_)[p + 1];
      } else {
        batch.inputs.data_as<float>()[t * rows + row] = (*values_)[p];
        float* target = batch.targets.data_as<float>() + (t * rows + row) * horizon;
        for (std::int64_t j = 0; j < horizon; ++j) target[j] = (*values_)[p + 1 + static_cast<std::size_t>(j)];
      }
    }
  }
  return batch;
}

}  // namespace gpurnn::train::tasks
