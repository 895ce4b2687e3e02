#pragma once
// Batches of freshly drawn examples: row r of batch i is drawn by `draw` from a CounterRng
// keyed by (seed, stream, i, r) only, so batch(i) is a pure function of (seed, i) and the
// training and evaluation streams never share an example's numbers. Every row has `steps`
// steps unless `draw` sets a shorter length.

#include <cstdint>
#include <functional>

#include "gpurnn/train/batch.h"
#include "tasks/counter_rng.h"

namespace gpurnn::train::tasks {

class GeneratedSource : public BatchSource {
 public:
  // Writes row `row` of `batch` (inputs, targets, and lengths[row], preset to `steps`).
  using DrawRow = std::function<void(CounterRng& rng, Batch& batch, std::int64_t row)>;

  GeneratedSource(ModelInterface interface, std::int64_t steps, std::int64_t rows,
                  std::int64_t batches_per_epoch, std::uint64_t seed, std::uint64_t stream,
                  DrawRow draw);

  std::int64_t batches_per_epoch() const override { return batches_per_epoch_; }
  Batch batch(std::int64_t index) const override;

 private:
  ModelInterface interface_;
  std::int64_t steps_;
  std::int64_t rows_;
  std::int64_t batches_per_epoch_;
  std::uint64_t seed_;
  std::uint64_t stream_;
  DrawRow draw_;
};

}  // namespace gpurnn::train::tasks
