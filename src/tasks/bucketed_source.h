#pragma once
// Batches of whole variable-length sequences, bucketed by length so that padding is small.
//
// Epoch e's order, drawn from (seed, e) only: the sequences are shuffled; the shuffled list is
// cut into pools of `pool_batches` x `rows` sequences; each pool is sorted by length (stable)
// and cut into batches of `rows`; then the order of all the epoch's batches is shuffled. Each
// sequence is in exactly one batch per epoch. Every batch has `rows` rows except possibly one
// (the last of the last pool: size mod rows). A batch has as many steps as its longest
// sequence; shorter rows are padded with zero inputs and their length says where they end.

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "gpurnn/train/batch.h"

namespace gpurnn::train::tasks {

// Sequences of feature frames, each with one class for the whole sequence.
struct SequenceDataset {
  std::int64_t features = 0;                // values per frame
  std::vector<std::vector<float>> frames;   // sequence n: [length_n, features], row-major
  std::vector<std::int32_t> labels;         // sequence n's class
  std::int64_t length(std::size_t n) const {
    return static_cast<std::int64_t>(frames[n].size()) / features;
  }
  std::size_t size() const { return frames.size(); }
};

class BucketedSource : public BatchSource {
 public:
  // inputs f32 [T, rows, features], targets final_classes i32 [rows], `classes` classes.
  // Error(invalid_argument) naming 'dataset' (empty, a sequence of length 0 or not a whole
  // number of frames, a label outside [0, classes)), 'rows' or 'pool_batches' (< 1).
  BucketedSource(std::shared_ptr<const SequenceDataset> dataset, std::int64_t classes,
                 std::int64_t rows, std::int64_t pool_batches, std::uint64_t seed);

  std::int64_t batches_per_epoch() const override;
  Batch batch(std::int64_t index) const override;

  // The dataset indices of batch `index`, in row order (what batch(index) holds).
  std::vector<std::size_t> members(std::int64_t index) const;

 private:
  using EpochPlan = std::vector<std::vector<std::size_t>>;  // batch -> sequence indices
  EpochPlan plan_epoch(std::int64_t epoch) const;
  std::shared_ptr<const EpochPlan> epoch_plan(std::int64_t epoch) const;

  std::shared_ptr<const SequenceDataset> dataset_;
  ModelInterface interface_;
  std::int64_t rows_;
  std::int64_t pool_batches_;
  std::uint64_t seed_;
  // The most recent epoch's plan: batch(i) of one epoch reuses it (plans are pure, so the cache
  // only saves time).
  mutable std::mutex cache_mutex_;
  mutable std::int64_t cached_epoch_ = -1;
  mutable std::shared_ptr<const EpochPlan> cached_plan_;
};

}  // namespace gpurnn::train::tasks
