#pragma once
// Sequence to sequence with attention, and pointer networks.
//
// An encoder RNN reads the input (token embeddings or features) and its outputs are the memory;
// a decoder RNN starts from the encoder's final state and, at each output step u, reads the
// previous output (teacher forcing: the reference's, or with a schedule sometimes its own) and
// attends over the memory:
//   output_tokens (Luong et al. 2015): a = softmax(score(d_u, m)), c = sum_s a_s m_s,
//       logits = W_o tanh(W_c c + W_d d_u + b) over the output vocabulary;
//   pointers (Vinyals et al. 2015): the masked scores over the input positions are the output,
//       and the next decoder input is the features of the position pointed at.
// Training runs each RNN over whole sequences (one backend call each). Teacher forcing below 1
// is parallel scheduled sampling (Duckworth et al. 2019): a first pass without gradients predicts
// every step from the reference prefix, a fraction of the reference inputs is replaced by those
// predictions, and the training pass reads the mix. Decoding (greedy or beam search) runs the
// decoder one step per output through the backend (RnnLayer::step), never replaying a prefix.
//
// Output conventions (ModelInterface): output_tokens: ids in [0, output_size); the decoder's first
// input is a start token of its own (id output_size of the decoder's embedding). pointers: the
// first decoder input is a learned start vector; with exclusive_pointers a position already output
// is masked for the following steps (training masks the reference's earlier positions).

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gpurnn/rnn_descriptor.h"
#include "gpurnn/train/attention.h"
#include "gpurnn/train/trainable.h"

namespace gpurnn::train {

class RnnLayer;

struct Seq2SeqConfig {
  ModelInterface io;  // target: output_tokens or pointers
  CellKind cell = CellKind::lstm;
  std::int64_t hidden = 128;     // decoder state; a bidirectional encoder has hidden/2 per direction
  std::int64_t layers = 1;       // of the encoder and of the decoder
  bool bidirectional = false;    // encoder
  std::int64_t embedding = 0;    // width of token embeddings and of the features' linear projection
                                 // (0: min(hidden, 64))
  AttentionScore attention = AttentionScore::general;  // pointers: usually additive (Vinyals)
  std::int64_t attention_size = 0;  // additive: width of the score (0: hidden)
  double dropout = 0.0;              // between RNN layers and on the attentional output
  // Probability that a decoder input is the reference's previous output, at the first and the last
  // training step (linear in between); 1, 1: plain teacher forcing.
  double teacher_forcing = 1.0;
  double teacher_forcing_final = 1.0;
  DType dtype = DType::f32;
  std::string backend = "cpu";
  std::uint64_t seed = 1;
  int threads = 0;  // as ModelConfig::threads
};

// The config a checkpoint's metadata describes (Seq2SeqModel::architecture() and settings());
// Error(io_error) naming the entry when one is missing or malformed.
Seq2SeqConfig seq2seq_config_from_metadata(const std::map<std::string, std::string>& metadata,
                                           const std::string& origin);

enum class DecodeMethod {
  automatic,  // greedy for beam 1, beam search otherwise
  greedy,     // the most likely output at each step (beam is ignored)
  beam,       // beam search, even at width 1 (which then equals greedy; tests hold it to that)
};

struct DecodeOptions {
  std::int64_t beam = 1;         // beam width
  DecodeMethod method = DecodeMethod::automatic;
  double length_penalty = 0.0;   // alpha of Wu et al. (2016): hypotheses ranked by
                                 // log p / ((5 + length) / 6)^alpha
  std::int64_t max_length = 0;   // 0: the interface's rule (ModelInterface::max_output)
};

class Seq2SeqModel : public TrainableModel {
 public:
  // Error(invalid_argument) naming the field for settings out of range; Error(unsupported) when
  // the backend cannot run the RNNs.
  explicit Seq2SeqModel(const Seq2SeqConfig& config);
  ~Seq2SeqModel() override;
  Seq2SeqModel(const Seq2SeqModel&) = delete;
  Seq2SeqModel& operator=(const Seq2SeqModel&) = delete;

  const Seq2SeqConfig& config() const { return config_; }
  Device device() const override;
  DType dtype() const override { return config_.dtype; }
  TrainOps& ops() override { return *ops_; }
  void* stream() const override { return stream_; }
  void set_stream(void* stream);
  ModelInterface interface() const override { return config_.io; }

  // "source_embedding.weight" (token inputs) or "input_projection.weight", "input_projection.bias"
  // (feature inputs, shared by a pointer network's decoder), "encoder" (RNN), "target_embedding.weight"
  // (output_tokens) or "start" (pointers), "decoder" (RNN), "attention.*", and for output_tokens
  // "combine_context.weight", "combine_state.weight", "combine_state.bias", "output.weight",
  // "output.bias".
  std::vector<Parameter> parameters() const override;
  KeyValues architecture() const override;
  KeyValues settings() const override;

  // The batch's targets are the reference outputs [U, B]; `state` is not used (nothing carries).
  BatchSums train_step(const Batch& batch, RecurrentState& state, const StepContext& context) override;
  // Teacher-forced loss and per-step accuracy of the reference outputs.
  BatchSums eval_step(const Batch& batch, RecurrentState& state) override;

  // Decodes each row of a batch (inputs and lengths on the host or the device; targets unused):
  // greedy when options.beam is 1, beam search otherwise. Each output ends with end_output when
  // the interface has one and it was produced.
  std::vector<std::vector<std::int32_t>> decode(const Batch& batch, const DecodeOptions& options);

  // The teacher forcing ratio at training step `step` of `total_steps`.
  double teacher_forcing_at(std::int64_t step, std::int64_t total_steps) const;

 private:
  struct Encoded;
  struct Forward;
  // output_tokens: softmax of the scores, the context, tanh(W_c c + W_d d + b), dropout, logits.
  struct TokenHead {
    Tensor probs, context, combined, head_in, logits;
  };
  TokenHead token_head(const AttentionMemory& memory, const Tensor& decoder_y, const Tensor& scores, bool training,
                       std::uint64_t dropout_seed);
  Encoded encode(const Batch& batch, bool training, std::uint64_t dropout_seed);
  Forward run_forward(const Batch& batch, const std::vector<std::int32_t>& host_targets, bool training,
                      std::uint64_t dropout_seed, const std::vector<std::int32_t>& fed_outputs);
  BatchSums backward_and_loss(Forward& f, std::int64_t counted);
  std::vector<std::int32_t> checked_reference(const Batch& batch, const char* where) const;
  static std::int64_t counted_targets(const std::vector<std::int32_t>& reference);
  // The decoder input id of a row after it output `previous` (kIgnoreTarget: the start), and the
  // decoder inputs [steps, rows, I] for ids [steps * rows].
  std::int32_t input_id(const Encoded& e, std::int32_t previous, std::int64_t row) const;
  Tensor decoder_input(const Encoded& e, const std::vector<std::int32_t>& ids, std::int64_t steps,
                       Tensor* features = nullptr) const;
  // One decoding step of every row of `e` after outputs `previous` (one per row): the
  // log-probabilities of the next output [rows * K] (K: vocabulary or positions), on the host;
  // h and c advance. excluded: u8 [1, rows, S] or undefined.
  std::vector<double> decode_step(const Encoded& e, const std::vector<std::int32_t>& previous,
                                  const Tensor& excluded, Tensor& h, Tensor& c);
  Encoded expanded(const Encoded& e, std::int64_t width);  // every row repeated `width` times
  std::int64_t output_classes(const Encoded& e) const;
  std::vector<std::vector<std::int32_t>> greedy(const Encoded& e, const std::vector<std::int64_t>& limits);
  std::vector<std::vector<std::int32_t>> beam_search(const Encoded& e0, const std::vector<std::int64_t>& limits,
                                                     const DecodeOptions& options);

  Seq2SeqConfig config_;
  std::unique_ptr<TrainOps> ops_;
  void* stream_ = nullptr;
  Embedding source_embedding_, target_embedding_;
  Linear input_projection_;  // feature inputs -> the embedding width (encoder and pointer decoder)
  std::unique_ptr<RnnLayer> encoder_, decoder_;
  Attention attention_;
  Tensor start_, start_grad_;  // pointers: the first decoder input [I]
  Linear combine_context_, combine_state_, output_;
  Dropout dropout_;
};

// Decodes every batch of `source` (0 .. batches_per_epoch()-1), rows in order: the outputs a
// SequenceTask's report_outputs scores.
std::vector<std::vector<std::int32_t>> decode_source(Seq2SeqModel& model, const BatchSource& source,
                                                     const DecodeOptions& options);

}  // namespace gpurnn::train
