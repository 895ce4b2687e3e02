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
  // Sequence to sequence (gpurnn/train/seq2seq.h): targets i32 [U, B], an output sequence per
  // row whose length U may differ from the input's T; steps past a row's output are kIgnoreTarget.
  output_tokens,  // tokens in [0, output_size) of an output vocabulary (decoded with attention)
  pointers,       // positions of the row's own input, in [0, lengths[b]) (a pointer network)
};
constexpr std::int32_t kIgnoreTarget = -1;

struct ModelInterface {
  InputKind input = InputKind::features;
  std::int64_t input_size = 0;  // vocabulary (tokens) or features per step
  TargetKind target = TargetKind::step_values;
  std::int64_t output_size = 0;  // classes or values per prediction (pointers: unused, 0)

  // Output sequences (output_tokens, pointers) only:
  // the output that ends a row's sequence (an end-of-sequence token, or the position of an end
  // marker in the input), or -1 when every output has a fixed length (see max_output).
  std::int32_t end_output = -1;
  // pointers: a position once output cannot be output again (permutations: sort, tsp); the
  // end_output position stays allowed.
  bool exclusive_pointers = false;
  // The longest output a decoder produces: a fixed length with end_output -1 (0 there: the row's
  // input length), else a limit (0: twice the input length, plus 2).
  std::int64_t max_output = 0;
};

// "tokens", "features"; "step_classes", ..., "pointers" (checkpoint metadata). The parsers throw
// Error(invalid_argument) naming `what` for an unknown name.
const char* to_string(InputKind kind);
const char* to_string(TargetKind kind);
InputKind parse_input_kind(const std::string& text, const std::string& what);
TargetKind parse_target_kind(const std::string& text, const std::string& what);

inline bool is_sequence_target(TargetKind kind) {
  return kind == TargetKind::output_tokens || kind == TargetKind::pointers;
}

// One batch, time-major: on the host (CPU tensors) as a BatchSource makes it; after a device's
// BatchUploader, inputs, targets and device_lengths on the device and lengths still on the host.
struct Batch {
  Tensor inputs;   // see InputKind
  Tensor targets;  // see TargetKind; steps at or past a row's length are kIgnoreTarget or unused
  Tensor lengths;  // i32 [B], each in [1, T]; on the host always (what Backend calls read)
  // The lengths on the training device, for the kernels that read them (attention masks): set by
  // a device's BatchUploader (train/batch_uploader.h); undefined in a host batch, and on the cpu
  // device, where `lengths` serves. lengths_on() picks.
  Tensor device_lengths;
  // Truncated BPTT: per row, 1 when the row continues the same row of the previous batch index
  // (its initial state is that row's final state, carried without gradient); 0 when it starts
  // fresh (zeros). Empty: every row starts fresh.
  std::vector<std::uint8_t> carry_state;

  // The lengths on `device`: `lengths` on the host, else `device_lengths` when it is there, else
  // a copy made now (undefined when lengths is).
  Tensor lengths_on(Device device) const;

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
