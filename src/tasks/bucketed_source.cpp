#include "tasks/bucketed_source.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "gpurnn/error.h"
#include "tasks/counter_rng.h"
#include "tasks/new_batch.h"

namespace gpurnn::train::tasks {
namespace {

constexpr const char* kWhere = "BucketedSource";

template <class T>
void shuffle(std::vector<T>& items, CounterRng& rng) {
  for (std::size_t i = items.size(); i > 1; --i) {
    std::swap(items[i - 1], items[static_cast<std::size_t>(rng.below(static_cast<std::int64_t>(i)))]);
  }
}

}  // namespace

BucketedSource::BucketedSource(std::shared_ptr<const SequenceDataset> dataset, std::int64_t classes,
                               std::int64_t rows, std::int64_t pool_batches, std::uint64_t seed)
    : dataset_(std::move(dataset)),
      interface_{InputKind::features, 0, TargetKind::final_classes, classes},
      rows_(rows),
      pool_batches_(pool_batches),
      seed_(seed) {
  check_argument(dataset_ != nullptr && dataset_->size() > 0, kWhere, "dataset", "is empty");
  check_argument(dataset_->features >= 1 && dataset_->labels.size() == dataset_->size(), kWhere,
                 "dataset", "needs features >= 1 and one label per sequence");
  for (std::size_t n = 0; n < dataset_->size(); ++n) {
    const std::size_t values = dataset_->frames[n].size();
    check_argument(values > 0 && values % static_cast<std::size_t>(dataset_->features) == 0, kWhere,
                   "dataset", "sequence " + std::to_string(n) + " has " + std::to_string(values) +
                                  " values, not a positive multiple of the features");
    check_argument(dataset_->labels[n] >= 0 && dataset_->labels[n] < classes, kWhere, "dataset",
                   "sequence " + std::to_string(n) + " has label " +
                       std::to_string(dataset_->labels[n]) + " outside [0, " +
                       std::to_string(classes) + ")");
  }
  check_argument(rows >= 1, kWhere, "rows", "must be at least 1, got " + std::to_string(rows));
  check_argument(pool_batches >= 1, kWhere, "pool_batches",
                 "must be at least 1, got " + std::to_string(pool_batches));
  interface_.input_size = dataset_->features;
}

std::int64_t BucketedSource::batches_per_epoch() const {
  const auto size = static_cast<std::int64_t>(dataset_->size());
  return (size + rows_ - 1) / rows_;
}

BucketedSource::EpochPlan BucketedSource::plan_epoch(std::int64_t epoch) const {
  const auto epoch_word = static_cast<std::uint64_t>(epoch);
  std::vector<std::size_t> order(dataset_->size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  CounterRng sequence_rng({seed_, kShuffleStream, epoch_word, 0});
  shuffle(order, sequence_rng);

  EpochPlan plan;
  const auto pool_size = static_cast<std::size_t>(pool_batches_ * rows_);
  for (std::size_t pool = 0; pool < order.size(); pool += pool_size) {
    const auto first = order.begin() + static_cast<std::ptrdiff_t>(pool);
    const auto last = order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), pool + pool_size));
    std::stable_sort(first, last, [&](std::size_t a, std::size_t b) {
      return dataset_->length(a) < dataset_->length(b);
    });
    for (auto it = first; it < last; it += std::min<std::ptrdiff_t>(rows_, last - it)) {
      plan.emplace_back(it, it + std::min<std::ptrdiff_t>(rows_, last - it));
    }
  }
  CounterRng batch_rng({seed_, kShuffleStream, epoch_word, 1});
  shuffle(plan, batch_rng);
  return plan;
}

std::shared_ptr<const BucketedSource::EpochPlan> BucketedSource::epoch_plan(std::int64_t epoch) const {
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cached_epoch_ == epoch) return cached_plan_;
  }
  auto plan = std::make_shared<const EpochPlan>(plan_epoch(epoch));
  std::lock_guard<std::mutex> lock(cache_mutex_);
  cached_epoch_ = epoch;
  cached_plan_ = plan;
  return plan;
}

std::vector<std::size_t> BucketedSource::members(std::int64_t index) const {
  check_argument(index >= 0, "BucketedSource::batch", "index",
                 "must be non-negative, got " + std::to_string(index));
  const std::int64_t per_epoch = batches_per_epoch();
  return (*epoch_plan(index / per_epoch))[static_cast<std::size_t>(index % per_epoch)];
}

Batch BucketedSource::batch(std::int64_t index) const {
  const std::vector<std::size_t> rows = members(index);
  std::int64_t steps = 0;
  for (std::size_t n : rows) steps = std::max(steps, dataset_->length(n));
  const auto count = static_cast<std::int64_t>(rows.size());
  const std::int64_t features = dataset_->features;
  Batch batch = new_batch(interface_, steps, count);
  float* inputs = batch.inputs.data_as<float>();
  for (std::int64_t row = 0; row < count; ++row) {
    const std::size_t n = rows[static_cast<std::size_t>(row)];
    const std::vector<float>& frames = dataset_->frames[n];
    const std::int64_t length = dataset_->length(n);
    for (std::int64_t t = 0; t < length; ++t) {
      std::copy(frames.begin() + t * features, frames.begin() + (t + 1) * features,
                inputs + (t * count + row) * features);
    }
    batch.lengths.data_as<std::int32_t>()[row] = static_cast<std::int32_t>(length);
    batch.targets.data_as<std::int32_t>()[row] = dataset_->labels[n];
  }
  return batch;
}

}  // namespace gpurnn::train::tasks
