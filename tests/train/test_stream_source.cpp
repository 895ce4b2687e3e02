// Truncated-BPTT stream batches: lanes are contiguous runs of the stream, chunks never cross a
// document, carry_state says exactly when a row continues its previous chunk.
#include <numeric>
#include <random>

#include <gtest/gtest.h>

#include "test_support.h"
#include "train/batch_test_support.h"
#include "tasks/stream_source.h"

namespace gpurnn::testing {
namespace {

using train::Batch;
using train::tasks::StreamPlan;
using train::tasks::StreamSource;

// Documents of awkward lengths: 1 and 2 (no or one input position), shorter and longer than
// a chunk, one exactly a chunk plus one.
const std::vector<std::int64_t> kDocumentLengths = {37, 5, 1, 60, 23, 2, 44, 8, 19, 71};

std::vector<std::int64_t> ends_of(const std::vector<std::int64_t>& lengths) {
  std::vector<std::int64_t> ends(lengths.size());
  std::partial_sum(lengths.begin(), lengths.end(), ends.begin());
  return ends;
}

// The input positions of the stream, computed independently of StreamPlan, and for each the
// document it belongs to.
struct InputPositions {
  std::vector<std::int64_t> position, document, document_begin;
};
InputPositions input_positions(const std::vector<std::int64_t>& lengths, std::int64_t horizon) {
  InputPositions out;
  std::int64_t begin = 0;
  for (std::size_t d = 0; d < lengths.size(); ++d) {
    for (std::int64_t p = begin; p + horizon < begin + lengths[d]; ++p) {
      out.position.push_back(p);
      out.document.push_back(static_cast<std::int64_t>(d));
      out.document_begin.push_back(begin);
    }
    begin += lengths[d];
  }
  return out;
}

std::shared_ptr<std::vector<std::uint8_t>> random_tokens(std::size_t size, std::int32_t vocabulary) {
  auto tokens = std::make_shared<std::vector<std::uint8_t>>(size);
  std::mt19937 rng(17);
  for (auto& token : *tokens) token = static_cast<std::uint8_t>(rng() % static_cast<unsigned>(vocabulary));
  return tokens;
}

TEST(StreamSource, LanesConcatenateToTheStreamWithCarryAndCutsAtDocuments) {
  const std::int64_t lanes = 3, steps = 7, vocabulary = 11;
  const auto ends = ends_of(kDocumentLengths);
  const auto tokens = random_tokens(static_cast<std::size_t>(ends.back()), vocabulary);
  const auto source = StreamSource::over_tokens(tokens, ends, vocabulary, lanes, steps);
  const InputPositions inputs = input_positions(kDocumentLengths, 1);
  const auto lane_length = static_cast<std::int64_t>(inputs.position.size()) / lanes;
  const std::int64_t batches = source->batches_per_epoch();
  ASSERT_GT(batches, 5);

  std::int64_t short_rows = 0;
  for (std::int64_t lane = 0; lane < lanes; ++lane) {
    std::int64_t next = lane * lane_length;  // index into inputs of the lane's next position
    for (std::int64_t i = 0; i < batches; ++i) {
      const Batch batch = source->batch(i);
      ASSERT_EQ(batch.rows(), lanes);
      ASSERT_EQ(batch.steps(), steps);
      ASSERT_EQ(batch.carry_state.size(), static_cast<std::size_t>(lanes));
      const std::int32_t length = length_of(batch, lane);
      ASSERT_GE(length, 1);
      ASSERT_LE(length, steps);
      const auto first = static_cast<std::size_t>(next);
      // Carry exactly when the row continues its document from the previous chunk.
      const bool continues = i > 0 && inputs.position[first] != inputs.document_begin[first];
      EXPECT_EQ(batch.carry_state[static_cast<std::size_t>(lane)], continues ? 1 : 0)
          << "lane " << lane << " batch " << i;
      for (std::int64_t t = 0; t < steps; ++t) {
        const std::int32_t input = batch.inputs.data_as<std::int32_t>()[t * lanes + lane];
        const std::int32_t target = batch.targets.data_as<std::int32_t>()[t * lanes + lane];
        if (t >= length) {
          EXPECT_EQ(input, 0);
          EXPECT_EQ(target, train::kIgnoreTarget);
          continue;
        }
        const auto k = static_cast<std::size_t>(next + t);
        ASSERT_EQ(inputs.document[k], inputs.document[first]) << "a chunk spans two documents";
        const auto p = static_cast<std::size_t>(inputs.position[k]);
        EXPECT_EQ(input, (*tokens)[p]);
        EXPECT_EQ(target, (*tokens)[p + 1]);
      }
      next += length;
      // A row shorter than k ends at its document's or its lane's end.
      if (length < steps) {
        ++short_rows;
        const auto last = static_cast<std::size_t>(next - 1);
        const bool document_ends = static_cast<std::size_t>(next) == inputs.position.size() ||
                                   inputs.document[last] != inputs.document[last + 1];
        EXPECT_TRUE(document_ends || next == (lane + 1) * lane_length) << "lane " << lane << " batch " << i;
      }
    }
    EXPECT_LE(next, (lane + 1) * lane_length);
  }
  EXPECT_GT(short_rows, 3);  // the documents do cut rows
}

TEST(StreamSource, EpochsWrapAndStartFresh) {
  const auto ends = ends_of(kDocumentLengths);
  const auto source = StreamSource::over_tokens(random_tokens(static_cast<std::size_t>(ends.back()), 5),
                                                ends, 5, 4, 6);
  const std::int64_t n = source->batches_per_epoch();
  for (std::int64_t i = 0; i < n; ++i) EXPECT_TRUE(same_batch(source->batch(i), source->batch(i + 2 * n)));
  for (std::uint8_t carry : source->batch(n).carry_state) EXPECT_EQ(carry, 0);
  std::int64_t carried = 0;
  for (std::uint8_t carry : source->batch(1).carry_state) carried += carry;
  EXPECT_GT(carried, 0);
  expect_deterministic(*source, n + 2);
}

TEST(StreamSource, ValueTargetsAreTheNextHorizonValuesOfTheSameDocument) {
  const std::int64_t horizon = 3, lanes = 2, steps = 9;
  const auto ends = ends_of(kDocumentLengths);
  auto values = std::make_shared<std::vector<float>>();
  for (std::int64_t p = 0; p < ends.back(); ++p) values->push_back(0.5f * static_cast<float>(p) - 3.0f);
  const auto source = StreamSource::over_values(values, ends, lanes, steps, horizon);
  EXPECT_EQ(source->interface().output_size, horizon);
  const InputPositions inputs = input_positions(kDocumentLengths, horizon);
  std::int64_t counted = 0;
  for (std::int64_t i = 0; i < source->batches_per_epoch(); ++i) {
    const Batch batch = source->batch(i);
    ASSERT_EQ(batch.inputs.shape(), Shape({steps, lanes, 1}));
    ASSERT_EQ(batch.targets.shape(), Shape({steps, lanes, horizon}));
    for (std::int64_t row = 0; row < lanes; ++row) {
      for (std::int64_t t = 0; t < length_of(batch, row); ++t, ++counted) {
        const float x = batch.inputs.data_as<float>()[t * lanes + row];
        const auto p = static_cast<std::int64_t>(std::lround((x + 3.0f) * 2.0f));
        // x is an input position whose targets stay in its document.
        ASSERT_NE(std::find(inputs.position.begin(), inputs.position.end(), p), inputs.position.end());
        for (std::int64_t j = 0; j < horizon; ++j) {
          EXPECT_EQ(batch.targets.data_as<float>()[(t * lanes + row) * horizon + j],
                    (*values)[static_cast<std::size_t>(p + 1 + j)]);
        }
      }
    }
  }
  EXPECT_GT(counted, static_cast<std::int64_t>(inputs.position.size()) * 3 / 4);
}

TEST(StreamSource, InputPositionsAndErrors) {
  EXPECT_EQ(StreamPlan::input_positions({10, 12, 13}, 1), 9 + 1 + 0);
  EXPECT_EQ(StreamPlan::input_positions({10, 12, 13}, 2), 8 + 0 + 0);
  expect_error([] { StreamPlan({10}, 10, 3, 1); }, ErrorCode::invalid_argument, {"lanes", "9"});
  expect_error([] { StreamPlan({10}, 2, 0, 1); }, ErrorCode::invalid_argument, {"steps"});
  expect_error([] { StreamPlan({10}, 2, 3, 0); }, ErrorCode::invalid_argument, {"horizon"});
  expect_error([] { StreamSource::over_tokens(random_tokens(9, 3), {10}, 3, 2, 3); },
               ErrorCode::invalid_argument, {"document_ends"});
}

}  // namespace
}  // namespace gpurnn::testing
