// Bucketed variable-length batches: every sequence once per epoch, little padding, an order
// drawn from (seed, epoch).
#include <algorithm>
#include <random>

#include <gtest/gtest.h>

#include "test_support.h"
#include "train/batch_test_support.h"
#include "tasks/bucketed_source.h"

namespace gpurnn::testing {
namespace {

using train::Batch;
using train::tasks::BucketedSource;
using train::tasks::SequenceDataset;

constexpr std::int64_t kFeatures = 2;

std::shared_ptr<SequenceDataset> random_dataset(std::size_t size, std::uint32_t seed) {
  auto dataset = std::make_shared<SequenceDataset>();
  dataset->features = kFeatures;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  for (std::size_t n = 0; n < size; ++n) {
    const std::size_t length = 20 + rng() % 41;
    std::vector<float> frames(length * kFeatures);
    for (float& v : frames) v = value(rng);
    dataset->frames.push_back(frames);
    dataset->labels.push_back(static_cast<std::int32_t>(rng() % 4));
  }
  return dataset;
}

// (padded steps) / (all steps) over one epoch.
double padding_fraction(const BucketedSource& source, std::int64_t epoch) {
  double all = 0.0, used = 0.0;
  for (std::int64_t i = 0; i < source.batches_per_epoch(); ++i) {
    const Batch batch = source.batch(epoch * source.batches_per_epoch() + i);
    all += static_cast<double>(batch.steps() * batch.rows());
    for (std::int64_t row = 0; row < batch.rows(); ++row) used += length_of(batch, row);
  }
  return 1.0 - used / all;
}

TEST(BucketedSource, EverySequenceExactlyOncePerEpochWithItsFramesAndLabel) {
  const auto dataset = random_dataset(1000, 3);
  const BucketedSource source(dataset, 4, 32, 8, 7);
  EXPECT_EQ(source.batches_per_epoch(), 32);  // 31 full batches and one of 8
  for (std::int64_t epoch = 0; epoch < 2; ++epoch) {
    std::vector<int> seen(dataset->size(), 0);
    std::int64_t partial = 0;
    for (std::int64_t i = 0; i < source.batches_per_epoch(); ++i) {
      const std::int64_t index = epoch * source.batches_per_epoch() + i;
      const Batch batch = source.batch(index);
      const std::vector<std::size_t> members = source.members(index);
      ASSERT_EQ(static_cast<std::size_t>(batch.rows()), members.size());
      if (batch.rows() != 32) ++partial;
      ASSERT_EQ(batch.inputs.shape(), Shape({batch.steps(), batch.rows(), kFeatures}));
      EXPECT_TRUE(batch.carry_state.empty());
      for (std::int64_t row = 0; row < batch.rows(); ++row) {
        const std::size_t n = members[static_cast<std::size_t>(row)];
        ++seen[n];
        ASSERT_EQ(length_of(batch, row), dataset->length(n));
        EXPECT_EQ(batch.targets.data_as<std::int32_t>()[row], dataset->labels[n]);
        for (std::int64_t t = 0; t < batch.steps(); ++t) {
          for (std::int64_t f = 0; f < kFeatures; ++f) {
            const float got = batch.inputs.data_as<float>()[(t * batch.rows() + row) * kFeatures + f];
            const float want = t < dataset->length(n) ? dataset->frames[n][static_cast<std::size_t>(t * kFeatures + f)] : 0.0f;
            ASSERT_EQ(got, want) << "sequence " << n << " step " << t;
          }
        }
      }
    }
    EXPECT_EQ(partial, 1);
    EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](int count) { return count == 1; }))
        << "epoch " << epoch;
  }
}

TEST(BucketedSource, PaddingIsSmall) {
  const auto dataset = random_dataset(2000, 5);
  const BucketedSource source(dataset, 4, 32, 16, 1);
  EXPECT_LT(padding_fraction(source, 0), 0.05);
  EXPECT_LT(padding_fraction(source, 3), 0.05);
  // Pools of one batch are no bucketing at all: the bound above is one that random batches of
  // lengths 20..60 miss by far.
  const BucketedSource unbucketed(dataset, 4, 32, 1, 1);
  EXPECT_GT(padding_fraction(unbucketed, 0), 0.2);
}

TEST(BucketedSource, OrderDependsOnSeedAndEpochOnly) {
  const auto dataset = random_dataset(500, 9);
  const BucketedSource source(dataset, 4, 16, 4, 11);
  const BucketedSource same(dataset, 4, 16, 4, 11);
  const BucketedSource other_seed(dataset, 4, 16, 4, 12);
  const std::int64_t n = source.batches_per_epoch();
  std::int64_t epoch_differs = 0, seed_differs = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    EXPECT_TRUE(same_batch(source.batch(i), same.batch(i)));
    epoch_differs += source.members(i) != source.members(i + n);
    seed_differs += source.members(i) != other_seed.members(i);
  }
  EXPECT_GT(epoch_differs, n / 2);
  EXPECT_GT(seed_differs, n / 2);
  expect_deterministic(source, 2 * n);  // across an epoch boundary, from several threads
}

TEST(BucketedSource, RejectsBadDatasets) {
  expect_error([] { BucketedSource(std::make_shared<SequenceDataset>(), 4, 8, 2, 1); },
               ErrorCode::invalid_argument, {"dataset", "empty"});
  auto bad_label = random_dataset(10, 1);
  bad_label->labels[3] = 4;
  expect_error([&] { BucketedSource(bad_label, 4, 8, 2, 1); }, ErrorCode::invalid_argument,
               {"dataset", "sequence 3", "label 4"});
  auto ragged = random_dataset(10, 1);
  ragged->frames[2].pop_back();
  expect_error([&] { BucketedSource(ragged, 4, 8, 2, 1); }, ErrorCode::invalid_argument,
               {"dataset", "sequence 2"});
  expect_error([] { BucketedSource(random_dataset(10, 1), 4, 0, 2, 1); }, ErrorCode::invalid_argument, {"rows"});
}

}  // namespace
}  // namespace gpurnn::testing
