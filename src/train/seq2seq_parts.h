#pragma once
// Seq2SeqModel's internal state of one pass (shared by its training and decoding files), and the
// small host/device helpers both use.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "gpurnn/train/seq2seq.h"
#include "train/placement.h"

namespace gpurnn::train {

// The encoder's results for a batch: the attention memory, the decoder's initial state, and what
// decoder inputs are drawn from.
struct Seq2SeqModel::Encoded {
  std::int64_t positions = 0;  // S
  std::int64_t rows = 0;       // B (for a beam: B * width)
  std::vector<std::int32_t> lengths;  // host copy, per row
  AttentionMemory memory;
  Tensor h0, c0;  // the decoder's initial state [L, rows, H] (c0: LSTM)
  // pointers: rows [0, S*B0) are the input features (position s of original row b at s*B0 + b),
  // row S*B0 is the start vector; B0 is the batch before any beam expansion.
  Tensor feature_table;
  std::int64_t table_rows = 0;        // B0
  std::vector<std::int32_t> origin;   // per row: its original batch row
  // Training only: what backward needs.
  Tensor source_ids;       // tokens: [S*B]
  Tensor source_features;  // features: [S, B, I] in the model's dtype
  Tensor bridge_ids;  // bidirectional: the gather that joins the two directions' final states
  Tensor encoder_hn, encoder_cn;
};

// What a training forward keeps for its backward.
struct Seq2SeqModel::Forward {
  Encoded e;
  std::int64_t steps = 0;  // U
  Tensor decoder_ids;      // [U*B]: target-embedding ids (tokens) or feature-table rows (pointers)
  Tensor decoder_x, decoder_y;  // [U, B, E], [U, B, H]
  Tensor decoder_features;      // pointers: the fed points' features [U*B, I] (before the projection)
  Tensor excluded;              // pointers: u8 [U, B, S] or undefined
  AttentionScores scores;
  TokenHead head;                            // output_tokens
  Tensor logits;                             // [U*B, V] (tokens) or the scores [U*B, S] (pointers)
  Tensor targets;                            // device i32 [U*B]
  std::uint64_t dropout_seed = 0;
};

namespace seq2seq_detail {


// [N0, N1, D] as [N0 * N1, D] (the rows a Linear layer works on).
inline Tensor flat_rows(const Tensor& t) { return t.reshape({t.dim(0) * t.dim(1), t.dim(2)}); }
// The width of token embeddings and of the features' projection.
inline std::int64_t embedding_width(const Seq2SeqConfig& c) {
  return c.embedding > 0 ? c.embedding : std::min<std::int64_t>(c.hidden, 64);
}

// A host copy of an i32 tensor's values.
std::vector<std::int32_t> host_ints(const Tensor& t);
// The argmax of each row of scores [N, K] (on the host).
std::vector<std::int32_t> argmax_rows(const Tensor& scores);

// An i32 tensor [n] on `device` holding `values`.
Tensor index_tensor(const std::vector<std::int32_t>& values, Device device);
// `given` flattened when it is defined and on `device` (an i32 tensor that holds `values`: a
// batch's lengths or targets, already uploaded), else `values` uploaded.
Tensor index_tensor_of(const Tensor& given, const std::vector<std::int32_t>& values, Device device);

// Rows ids[i] of a table [V, D] (any tensor whose leading dimensions flatten to V rows of D).
Tensor gather_rows(TrainOps& ops, const Tensor& table, std::int64_t row_width, const std::vector<std::int32_t>& ids);

// The reference's earlier positions at each step, for exclusive pointers: u8 [U, B, S] with
// excluded[u][b][targets[u'][b]] = 1 for u' < u (the end position stays allowed).
Tensor excluded_positions(const std::vector<std::int32_t>& targets, std::int64_t steps, std::int64_t rows,
                          std::int64_t positions, std::int32_t end_output, Device device);

// Row-wise log-softmax of a host copy of scores [N, K] (-infinity entries stay -infinity), in double.
std::vector<double> log_softmax_rows(const Tensor& scores);

}  // namespace seq2seq_detail
}  // namespace gpurnn::train
