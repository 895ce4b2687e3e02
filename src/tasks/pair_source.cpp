#include "tasks/pair_source.h"

#include <algorithm>

namespace gpurnn::train::tasks {

Batch pair_batch(const std::vector<PairExample>& examples, InputKind input, std::int64_t feature_size) {
  const auto rows = static_cast<std::int64_t>(examples.size());
  check_argument(rows > 0, "pair_batch", "examples", "is empty");
  std::int64_t steps = 1, outputs = 1;
  for (const PairExample& e : examples) {
    const std::int64_t len = input == InputKind::tokens ? static_cast<std::int64_t>(e.tokens.size())
                                                        : static_cast<std::int64_t>(e.features.size()) / feature_size;
    steps = std::max(steps, len);
    outputs = std::max(outputs, static_cast<std::int64_t>(e.target.size()));
  }
  Batch batch;
  batch.inputs = input == InputKind::tokens ? Tensor::zeros({steps, rows}, DType::i32)
                                            : Tensor::zeros({steps, rows, feature_size}, DType::f32);
  batch.targets = Tensor::empty({outputs, rows}, DType::i32);
  batch.lengths = Tensor::empty({rows}, DType::i32);
  std::int32_t* targets = batch.targets.data_as<std::int32_t>();
  std::fill(targets, targets + outputs * rows, kIgnoreTarget);
  for (std::int64_t b = 0; b < rows; ++b) {
    const PairExample& e = examples[b];
    std::int64_t len = 0;
    if (input == InputKind::tokens) {
      len = static_cast<std::int64_t>(e.tokens.size());
      for (std::int64_t s = 0; s < len; ++s) batch.inputs.data_as<std::int32_t>()[s * rows + b] = e.tokens[s];
    } else {
      len = static_cast<std::int64_t>(e.features.size()) / feature_size;
      float* x = batch.inputs.data_as<float>();
      for (std::int64_t s = 0; s < len; ++s) {
        std::copy_n(e.features.begin() + s * feature_size, feature_size, x + (s * rows + b) * feature_size);
      }
    }
    check_argument(len >= 1, "pair_batch", "examples", "has an example with an empty input");
    batch.lengths.data_as<std::int32_t>()[b] = static_cast<std::int32_t>(len);
    for (std::size_t u = 0; u < e.target.size(); ++u) targets[static_cast<std::int64_t>(u) * rows + b] = e.target[u];
  }
  return batch;
}

PairSource::PairSource(InputKind input, std::int64_t feature_size, std::int64_t rows, std::int64_t batches_per_epoch,
                       std::uint64_t seed, std::uint64_t stream, Draw draw)
    : input_(input), feature_size_(feature_size), rows_(rows), batches_per_epoch_(batches_per_epoch), seed_(seed),
      stream_(stream), draw_(std::move(draw)) {
  check_argument(rows > 0, "PairSource", "rows", "must be positive, got " + std::to_string(rows));
}

PairSource::PairSource(InputKind input, std::int64_t feature_size, std::int64_t rows, std::vector<PairExample> examples)
    : input_(input), feature_size_(feature_size), rows_(rows), examples_(std::move(examples)) {
  check_argument(rows > 0, "PairSource", "rows", "must be positive, got " + std::to_string(rows));
  check_argument(!examples_.empty(), "PairSource", "examples", "is empty");
  batches_per_epoch_ = (static_cast<std::int64_t>(examples_.size()) + rows - 1) / rows;
}

Batch PairSource::batch(std::int64_t index) const {
  check_argument(index >= 0, "PairSource::batch", "index", "must be >= 0, got " + std::to_string(index));
  std::vector<PairExample> rows;
  if (draw_) {
    for (std::int64_t r = 0; r < rows_; ++r) {
      CounterRng rng{seed_, stream_, static_cast<std::uint64_t>(index), static_cast<std::uint64_t>(r)};
      rows.push_back(draw_(rng));
    }
  } else {
    const std::int64_t first = (index % batches_per_epoch_) * rows_;
    const std::int64_t last = std::min<std::int64_t>(first + rows_, static_cast<std::int64_t>(examples_.size()));
    rows.assign(examples_.begin() + first, examples_.begin() + last);
  }
  return pair_batch(rows, input_, feature_size_);
}

}  // namespace gpurnn::train::tasks
