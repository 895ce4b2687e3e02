#pragma once
// Small synthetic batches and tasks for the model and trainer tests: random but a pure function
// of (seed, index), like every BatchSource.

#include <cstdint>
#include <string>

#include "gpurnn/train/task.h"

namespace gpurnn::testing {

// A batch for `io` with T steps and B rows: random inputs, ragged lengths (row b has length
// T - b % T... at least 1), targets past a row's length ignored, carry_state as given.
train::Batch random_batch(const train::ModelInterface& io, std::int64_t steps, std::int64_t rows,
                          std::uint64_t seed, std::vector<std::uint8_t> carry_state = {});

// A task over random_batch: train batch i is random_batch(io, T, B, seed + i) with every row
// carrying its state on odd i (a stream of two-chunk documents); eval has `eval_batches` batches.
class RandomTask final : public train::Task {
 public:
  RandomTask(train::ModelInterface io, std::int64_t steps, std::int64_t rows, std::int64_t eval_batches = 2);
  std::string name() const override { return "random"; }
  std::string describe() const override { return "random batches"; }
  train::ModelInterface interface() const override { return io_; }
  const train::BatchSource& train_data() const override { return train_; }
  const train::BatchSource& eval_data() const override { return eval_; }
  std::vector<std::pair<std::string, std::string>> report(const train::EvalResult& eval) const override;

 private:
  class Source final : public train::BatchSource {
   public:
    Source(const RandomTask& task, std::uint64_t seed, std::int64_t batches, bool carry)
        : task_(task), seed_(seed), batches_(batches), carry_(carry) {}
    std::int64_t batches_per_epoch() const override { return batches_; }
    train::Batch batch(std::int64_t index) const override;

   private:
    const RandomTask& task_;
    std::uint64_t seed_;
    std::int64_t batches_;
    bool carry_;
  };
  train::ModelInterface io_;
  std::int64_t steps_, rows_;
  Source train_, eval_;
};

}  // namespace gpurnn::testing
