#pragma once
// Batches of (input sequence, output sequence) examples for the seq2seq and pointer tasks.
// Inputs are padded to the batch's longest (lengths say how long each row is), outputs to the
// longest output with kIgnoreTarget. A fresh source draws row r of batch i from a CounterRng keyed
// by (seed, stream, i, r), so batch(i) is a pure function of i; a fixed source serves a list of
// examples in order (the evaluation split, kept so a task can score decoded outputs against it).

#include <cstdint>
#include <functional>
#include <vector>

#include "gpurnn/train/batch.h"
#include "tasks/counter_rng.h"

namespace gpurnn::train::tasks {

struct PairExample {
  std::vector<std::int32_t> tokens;   // token inputs: one id per position
  std::vector<float> features;        // feature inputs: positions * feature_size values
  std::vector<std::int32_t> target;   // the reference output sequence
};

// A batch of `examples` (inputs i32 [S, B] or f32 [S, B, feature_size]; targets i32 [U, B]).
Batch pair_batch(const std::vector<PairExample>& examples, InputKind input, std::int64_t feature_size);

class PairSource : public BatchSource {
 public:
  using Draw = std::function<PairExample(CounterRng& rng)>;

  // Fresh examples: `rows` per batch, `batches_per_epoch` notional.
  PairSource(InputKind input, std::int64_t feature_size, std::int64_t rows, std::int64_t batches_per_epoch,
             std::uint64_t seed, std::uint64_t stream, Draw draw);
  // A fixed list, `rows` per batch (the last batch may be smaller).
  PairSource(InputKind input, std::int64_t feature_size, std::int64_t rows, std::vector<PairExample> examples);

  std::int64_t batches_per_epoch() const override { return batches_per_epoch_; }
  Batch batch(std::int64_t index) const override;

 private:
  InputKind input_;
  std::int64_t feature_size_;
  std::int64_t rows_;
  std::int64_t batches_per_epoch_;
  std::uint64_t seed_ = 0, stream_ = 0;
  Draw draw_;
  std::vector<PairExample> examples_;
};

}  // namespace gpurnn::train::tasks
