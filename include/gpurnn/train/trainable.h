#pragma once
// What the Trainer needs of a model: its parameters, one training step and one evaluation step on
// a batch, and a description of its architecture for checkpoints. SequenceModel
// (gpurnn/train/model.h) and Seq2SeqModel (gpurnn/train/seq2seq.h) are the two kinds.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gpurnn/train/batch.h"
#include "gpurnn/train/layers.h"

namespace gpurnn::train {

// The final state of each row of a truncated-BPTT stream, carried to the next batch of that
// stream without gradient. Undefined tensors: nothing carried yet (or a model that carries none).
struct RecurrentState {
  Tensor h;  // [L, B, H_out]
  Tensor c;  // [L, B, H] (LSTM)
};

// Sums over the counted targets of one batch.
struct BatchSums {
  double loss = 0.0;          // summed loss (nats, or squared error per row)
  std::int64_t count = 0;     // counted targets (classes) or rows (values)
  std::int64_t correct = 0;   // classes: argmax == target (evaluation only)
};

// Where a training step stands in the run (for what changes over training, e.g. the teacher
// forcing ratio of a seq2seq model).
struct StepContext {
  std::uint64_t dropout_seed = 0;  // this step's dropout masks (and other per-step randomness)
  std::int64_t step = 0;           // 0-based index of the update this step computes
  std::int64_t total_steps = 0;    // updates in the whole run (0: unknown)
};

using KeyValues = std::vector<std::pair<std::string, std::string>>;

class TrainableModel {
 public:
  virtual ~TrainableModel() = default;

  virtual Device device() const = 0;
  virtual DType dtype() const = 0;
  virtual TrainOps& ops() = 0;
  virtual void* stream() const = 0;
  // What the model reads and predicts (the Trainer checks it against the task's).
  virtual ModelInterface interface() const = 0;

  // Every trainable tensor, in a fixed order. An RNN's flat buffer is one Parameter whose
  // rnn_layout names its pieces (checkpoints store them under PyTorch's names).
  virtual std::vector<Parameter> parameters() const = 0;
  std::int64_t parameter_count() const;
  void zero_grad();

  // Checkpoint metadata: the architecture (a resume must match every entry) and other settings
  // (stored for information and for rebuilding the model, not compared).
  virtual KeyValues architecture() const = 0;
  virtual KeyValues settings() const = 0;
  // The shapes of the state a batch of `rows` rows carries to the next batch (RecurrentState's h,
  // then c for an LSTM); empty for a model that carries none. A checkpoint's "state.h" and
  // "state.c" must hold exactly these.
  virtual std::vector<Shape> carried_state_shapes(std::int64_t rows) const {
    (void)rows;
    return {};
  }

  // One training forward and backward: adds the gradients of the batch's mean loss (over its
  // counted targets) and returns its sums. `state` is read for rows with carry_state and replaced
  // by this batch's final states (models that carry no state leave it alone).
  virtual BatchSums train_step(const Batch& batch, RecurrentState& state, const StepContext& context) = 0;
  // Inference forward: loss sums and correct predictions; no gradients, nothing saved.
  virtual BatchSums eval_step(const Batch& batch, RecurrentState& state) = 0;
};

}  // namespace gpurnn::train
