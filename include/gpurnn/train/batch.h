#pragma once
// Batches of sequences on the host, and the sources that make them.
//
// A BatchSource is a pure function of a batch index: batch(i) is the same on every call, on any
// thread, on any machine. That makes a data position one integer (what a checkpoint saves), lets
// a host thread prepare batch i+1 while batch i trains, and makes shuffling reproducible: the
// order of an epoch is drawn from (seed, epoch).

#include <cstdint>
#include <string>
#include <vector>

#include "gpurnn/tensor.h"

namespace gpurnn::train {

// What a model reads and predicts; fixed per task.
enum class InputKind {
  tokens,    // inputs i32 [T, B], ids in [0, input_size)
  features,  // inputs f32 [T, B, input_size]
};
enum class TargetKind {
  step_classes,   // targets i32 [T, B] in [0, output_size) or kIgnoreTarget
  step_values,    // targets f32 [T, B, output_size]
  final_classes,  // targets i32 [B], the class of the whole sequence (read at its last step)
  final_values,   // targets f32 [B, output_size]
};
constexpr std::int32_t kIgnoreTarget = -1;

struct ModelInterface {
  InputKind input = InputKind::features;
  std::int64_t input_size = 0;  // vocabulary (tokens) or features per step
  TargetKind target = TargetKind::step_values;
  std::int64_t output_size = 0;  // classes or values per prediction
};

// One batch, time-major, on the host (CPU tensors).
struct Batch {
  Tensor inputs;   // see InputKind
  Tensor targets;  // see TargetKind; steps at or past a row's length are kIgnoreTarget or unused
  Tensor lengths;  // i32 [B], each in [1, T]
  // Truncated BPTT: per row, 1 when the row continues the same row of the previous batch index
  // (its initial state is that row's final state, carried without gradient); 0 when it starts
  // fresh (zeros). Empty: every row starts fresh.
  std::vector<std::uint8_t> carry_state;

  std::int64_t steps() const { return inputs.dim(0); }
  std::int64_t rows() const { return inputs.dim(1); }
};

class BatchSource {
 public:
  virtual ~BatchSource() = default;
  // Batches in one pass over the data (an epoch); generated tasks report their notional size.
  virtual std::int64_t batches_per_epoch() const = 0;
  // The batch at `index` (>= 0; an index past one epoch continues into the next epoch, with
  // that epoch's shuffle). Thread-safe and deterministic.
  virtual Batch batch(std::int64_t index) const = 0;
};

}  // namespace gpurnn::train
