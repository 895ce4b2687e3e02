#pragma once
// A sequence model: [Embedding] -> RNN stack -> Dropout -> Linear head, trained on the batches of
// a Task (gpurnn/train/batch.h) with softmax cross-entropy (class targets) or squared error
// (value targets). Per-step targets read the head at every step; final targets read it at each
// row's last step (the top layer's final state).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gpurnn/rnn_weights.h"
#include "gpurnn/train/batch.h"
#include "gpurnn/train/layers.h"
#include "gpurnn/train/trainable.h"

namespace gpurnn::train {

class RnnLayer;

struct ModelConfig {
  ModelInterface io;
  CellKind cell = CellKind::lstm;
  std::int64_t hidden = 128;
  std::int64_t layers = 1;
  std::int64_t embedding = 0;  // token inputs: embedding width (0: min(hidden, 64))
                               // features: a per-step Linear projection of this width before the
                               // RNN (0: none, the features feed the RNN directly)
  double dropout = 0.0;        // between RNN layers and before the head
  // The parameters' dtype (f32 or f64): the embedding, the head, the losses, the optimizer state
  // and the checkpoint compute in it.
  DType dtype = DType::f32;
  // The dtype the RNN computes in (unset: dtype). bf16 with f32 dtype is mixed precision: the RNN
  // layer keeps f32 master weights and gradients and runs its backend calls in bf16 (the cpu
  // backend only, for now). f16 is refused (it would need loss scaling, which is not built).
  std::optional<DType> rnn_dtype;
  std::string backend = "cpu";  // any make_backend name ("cpu", "cuda", "cuda:1")
  std::uint64_t seed = 1;       // parameter initialisation
  // CPU threads of the RNN and the training ops' large products (BackendOptions::num_threads;
  // 0: the library default, every core). On a machine whose cores are busy with other work,
  // fewer threads than idle cores is faster: idle OpenMP workers spin (README, Threads).
  int threads = 0;
};

class SequenceModel : public TrainableModel {
 public:
  // Error(invalid_argument) naming the field for sizes out of range; Error(unsupported) when the
  // backend cannot run the RNN.
  explicit SequenceModel(const ModelConfig& config);
  ~SequenceModel();
  SequenceModel(const SequenceModel&) = delete;
  SequenceModel& operator=(const SequenceModel&) = delete;

  const ModelConfig& config() const { return config_; }
  const RNNDescriptor& rnn_descriptor() const;
  Device device() const override;
  DType dtype() const override { return config_.dtype; }
  // The RNN's compute dtype (ModelConfig::rnn_dtype, or dtype when unset).
  DType rnn_dtype() const { return config_.rnn_dtype.value_or(config_.dtype); }
  TrainOps& ops() override { return *ops_; }
  void* stream() const override { return stream_; }
  void set_stream(void* stream);  // cudaStream_t for every call (null: the default stream)
  ModelInterface interface() const override { return config_.io; }

  // Every trainable tensor: "embedding.weight" (tokens), "projection.weight" and
  // "projection.bias" (features with embedding > 0), "rnn" (the RNN's flat buffer; the
  // checkpoint stores it per PyTorch name), "output.weight", "output.bias".
  std::vector<Parameter> parameters() const override;
  const RNNWeights& rnn_weights() const;

  // cell, hidden, layers, embedding, dtype, rnn_dtype, input, input_size, target, output_size;
  // settings: dropout. (A checkpoint without rnn_dtype, from an older build, computed in dtype.)
  KeyValues architecture() const override;
  KeyValues settings() const override;
  std::vector<Shape> carried_state_shapes(std::int64_t rows) const override;

  // One training forward and backward on a batch on the model's device: adds the gradients of
  // the batch's mean loss (over its counted targets) and returns its sums. `state` is read for
  // rows with carry_state and replaced by this batch's final states.
  BatchSums train_step(const Batch& batch, RecurrentState& state, std::uint64_t dropout_seed);
  BatchSums train_step(const Batch& batch, RecurrentState& state, const StepContext& context) override {
    return train_step(batch, state, context.dropout_seed);
  }
  // Inference forward: loss sums and correct predictions; no gradients, nothing saved.
  BatchSums eval_step(const Batch& batch, RecurrentState& state) override;
  // Inference forward of a batch on the model's device (its targets unread; each row from zeros):
  // the head's outputs (the logits, or the predicted values) on the host, [B, output_size] for
  // final targets, [T*B, output_size] for per-step ones (gpurnn run --video classifies with it).
  Tensor predict(const Batch& batch);

  // Token models with step_classes targets (language models): continues from `prompt` (token
  // ids) for `count` tokens drawn from softmax(logits / temperature) with a seeded generator.
  // `emit`, when given, receives each token as it is drawn (gpurnn generate streams them).
  std::vector<std::int32_t> sample(const std::vector<std::int32_t>& prompt, std::int64_t count,
                                   double temperature, std::uint64_t seed,
                                   const std::function<void(std::int32_t)>& emit = {});

  // Streaming inference on one sequence, for per-step targets (generation, forecasting): runs
  // `inputs` (on the host: i32 [T] token ids, or [T, input_size] features) on from `state`
  // (undefined: zeros; replaced by the state after the last step) and returns the head's output
  // at the last step (the logits, or the predicted values) on the host as doubles. T > 1 is one
  // backend call; T = 1 is the RNN's single-step call on weights prepared once (RnnLayer::step),
  // so continuing token by token costs one step each, never a replay of the prefix.
  std::vector<double> continue_sequence(const Tensor& inputs, RecurrentState& state);

 private:
  struct Forward;
  bool projected() const;
  Forward run_forward(const Batch& batch, RecurrentState& state, bool training, std::uint64_t dropout_seed);

  ModelConfig config_;
  std::unique_ptr<TrainOps> ops_;
  void* stream_ = nullptr;
  Embedding embedding_;
  Linear projection_;  // features with embedding > 0: each step's features -> the RNN's input
  std::unique_ptr<RnnLayer> rnn_;
  Dropout head_dropout_;
  Linear output_;
};

}  // namespace gpurnn::train
