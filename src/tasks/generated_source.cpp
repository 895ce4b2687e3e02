#include "tasks/generated_source.h"

#include <string>

#include "gpurnn/error.h"
#include "tasks/new_batch.h"

namespace gpurnn::train::tasks {

GeneratedSource::GeneratedSource(ModelInterface interface, std::int64_t steps, std::int64_t rows,
                                 std::int64_t batches_per_epoch, std::uint64_t seed,
                                 std::uint64_t stream, DrawRow draw)
    : interface_(interface),
      steps_(steps),
      rows_(rows),
      batches_per_epoch_(batches_per_epoch),
      seed_(seed),
      stream_(stream),
      draw_(std::move(draw)) {
  constexpr const char* kWhere = "GeneratedSource";
  check_argument(steps >= 1, kWhere, "steps", "must be at least 1, got " + std::to_string(steps));
  check_argument(rows >= 1, kWhere, "rows", "must be at least 1, got " + std::to_string(rows));
  check_argument(batches_per_epoch >= 1, kWhere, "batches_per_epoch",
                 "must be at least 1, got " + std::to_string(batches_per_epoch));
  check_argument(static_cast<bool>(draw_), kWhere, "draw", "is empty");
}

Batch GeneratedSource::batch(std::int64_t index) const {
  check_argument(index >= 0, "GeneratedSource::batch", "index",
                 "must be non-negative, got " + std::to_string(index));
  Batch batch = new_batch(interface_, steps_, rows_);
  std::int32_t* lengths = batch.lengths.data_as<std::int32_t>();
  for (std::int64_t row = 0; row < rows_; ++row) {
    lengths[row] = static_cast<std::int32_t>(steps_);
    CounterRng rng({seed_, stream_, static_cast<std::uint64_t>(index), static_cast<std::uint64_t>(row)});
    draw_(rng, batch, row);
  }
  return batch;
}

}  // namespace gpurnn::train::tasks
