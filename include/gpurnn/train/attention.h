#pragma once
// Attention of decoder states (queries [T, B, Dq]) over a memory of encoder outputs ([S, B, Dm]),
// with Luong's dot and general scores and Bahdanau's additive score, written once over TrainOps
// so it runs on every device. The scores are masked (-infinity) past each row's source length
// and, for pointer networks, at excluded positions; softmax and the context are the caller's
// (a seq2seq decoder), or the masked scores are the output itself (a pointer network).

#include <cstdint>
#include <string>
#include <vector>

#include "gpurnn/train/layers.h"

namespace gpurnn::train {

enum class AttentionScore {
  dot,       // q . m                      (Luong et al. 2015; needs Dq == Dm)
  general,   // q . (W m), W [Dq, Dm]       (Luong et al. 2015)
  additive,  // v . tanh(W1 m + W2 q)       (Bahdanau et al. 2015; Vinyals et al. 2015's pointer)
};
const char* to_string(AttentionScore score);
// "dot", "general", "additive"; Error(invalid_argument) naming `what` otherwise.
AttentionScore parse_attention_score(const std::string& text, const std::string& what);

// The memory of one batch, with what every query over it reuses (computed once per sequence, so
// a decoder's step costs only its own query's work).
struct AttentionMemory {
  Tensor values;   // [S, B, Dm]: the encoder outputs
  Tensor keys;     // what queries are compared with: values (dot, general) or W1 values [S, B, A]
  Tensor lengths;  // i32 [B] on the device, or undefined (every row has S positions)
};

// What a scores() call keeps for its backward.
struct AttentionScores {
  Tensor scores;     // [T, B, S], masked with -infinity
  Tensor query;      // the query as given [T, B, Dq]
  Tensor projected;  // general: W^T q [T, B, Dm]; additive: W2 q [T, B, A]; dot: undefined
};

class Attention {
 public:
  Attention() = default;
  // attention_size: additive only (the width A of W1, W2 and v); Error(invalid_argument) naming
  // the argument for sizes that do not fit the score (dot with Dq != Dm, a non-positive size).
  Attention(AttentionScore score, std::int64_t query_size, std::int64_t memory_size, std::int64_t attention_size,
            DType dtype, Device device, std::uint64_t seed);

  AttentionScore score() const { return score_; }

  AttentionMemory prepare(TrainOps& ops, const Tensor& values, const Tensor& lengths) const;
  // Masked scores of queries [T, B, Dq] over the memory; excluded: u8 [T, B, S] or undefined.
  AttentionScores scores(TrainOps& ops, const AttentionMemory& memory, const Tensor& query,
                         const Tensor& excluded) const;
  // Adds the parameters' gradients for dscores [T, B, S], adds the memory's gradient into
  // dvalues [S, B, Dm] (which must hold zeros or earlier gradients), and returns dquery.
  Tensor backward(TrainOps& ops, const AttentionMemory& memory, const AttentionScores& saved, const Tensor& dscores,
                  Tensor& dvalues);

  // general: "<prefix>weight"; additive: "<prefix>memory.weight", "<prefix>query.weight",
  // "<prefix>v"; dot: none.
  std::vector<Parameter> parameters(const std::string& prefix) const;

 private:
  AttentionScore score_ = AttentionScore::dot;
  Linear query_projection_;   // general: Dq -> Dm; additive: Dq -> A
  Linear memory_projection_;  // additive: Dm -> A
  Tensor v_, v_grad_;         // additive: [A]
};

}  // namespace gpurnn::train
