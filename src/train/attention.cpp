#include "gpurnn/train/attention.h"

#include <cmath>

#include "core/quoted.h"

namespace gpurnn::train {
namespace {

// [N0, N1, D] <-> [N0 * N1, D] (the rows a Linear layer works on).
Tensor flat_rows(const Tensor& t) { return t.reshape({t.dim(0) * t.dim(1), t.dim(2)}); }
Tensor unflat_rows(const Tensor& t, const Tensor& like) { return t.reshape({like.dim(0), like.dim(1), t.dim(1)}); }

ConstTensorView optional_view(const Tensor& t) { return t.defined() ? t.view() : ConstTensorView(); }

}  // namespace

const char* to_string(AttentionScore score) {
  switch (score) {
    case AttentionScore::dot: return "dot";
    case AttentionScore::general: return "general";
    case AttentionScore::additive: return "additive";
  }
  return "?";
}

AttentionScore parse_attention_score(const std::string& text, const std::string& what) {
  for (AttentionScore s : {AttentionScore::dot, AttentionScore::general, AttentionScore::additive}) {
    if (text == to_string(s)) return s;
  }
  throw Error(ErrorCode::invalid_argument, what + " is " + gpurnn::detail::quoted(text) + ", expected dot, general or additive");
}

Attention::Attention(AttentionScore score, std::int64_t query_size, std::int64_t memory_size,
                     std::int64_t attention_size, DType dtype, Device device, std::uint64_t seed)
    : score_(score) {
  const char* where = "Attention";
  check_argument(query_size > 0, where, "query_size", "must be positive, got " + std::to_string(query_size));
  check_argument(memory_size > 0, where, "memory_size", "must be positive, got " + std::to_string(memory_size));
  switch (score) {
    case AttentionScore::dot:
      check_argument(query_size == memory_size, where, "query_size",
                     "is " + std::to_string(query_size) + ", but a dot score needs it equal to memory_size (" +
                         std::to_string(memory_size) + ")");
      break;
    case AttentionScore::general:
      query_projection_ = Linear(query_size, memory_size, false, dtype, device, seed);
      break;
    case AttentionScore::additive:
      check_argument(attention_size > 0, where, "attention_size",
                     "must be positive for an additive score, got " + std::to_string(attention_size));
      query_projection_ = Linear(query_size, attention_size, false, dtype, device, seed);
      memory_projection_ = Linear(memory_size, attention_size, false, dtype, device, seed + 1);
      v_ = uniform_parameter({attention_size}, 1.0 / std::sqrt(static_cast<double>(attention_size)), dtype, device,
                             seed + 2);
      v_grad_ = Tensor::zeros(v_.shape(), dtype, device);
      break;
  }
}

AttentionMemory Attention::prepare(TrainOps& ops, const Tensor& values, const Tensor& lengths) const {
  check_argument(values.defined() && values.rank() == 3, "Attention::prepare", "values", "must be [S, B, D]");
  AttentionMemory m;
  m.values = values;
  m.lengths = lengths;
  m.keys = score_ == AttentionScore::additive ? unflat_rows(memory_projection_.forward(ops, flat_rows(values).view()), values)
                                              : values;
  return m;
}

AttentionScores Attention::scores(TrainOps& ops, const AttentionMemory& memory, const Tensor& query,
                                  const Tensor& excluded) const {
  check_argument(query.defined() && query.rank() == 3, "Attention::scores", "query", "must be [T, B, D]");
  AttentionScores s;
  s.query = query;
  const std::int64_t steps = query.dim(0), rows = query.dim(1), positions = memory.keys.dim(0);
  s.scores = Tensor::empty({steps, rows, positions}, query.dtype(), query.device());
  if (score_ == AttentionScore::dot) {
    ops.attention_scores(query.view(), memory.keys.view(), s.scores.view());
  } else {
    s.projected = unflat_rows(query_projection_.forward(ops, flat_rows(query).view()), query);
    if (score_ == AttentionScore::general) {
      ops.attention_scores(s.projected.view(), memory.keys.view(), s.scores.view());
    } else {
      ops.additive_scores(s.projected.view(), memory.keys.view(), v_.view(), s.scores.view());
    }
  }
  ops.mask_scores(s.scores.view(), optional_view(memory.lengths), optional_view(excluded));
  return s;
}

Tensor Attention::backward(TrainOps& ops, const AttentionMemory& memory, const AttentionScores& saved,
                           const Tensor& dscores, Tensor& dvalues) {
  const Tensor& q = saved.query;
  if (score_ == AttentionScore::dot) {
    // One call accumulates both: the memory's gradient adds to the context's, so dquery starts
    // from zeros.
    Tensor dquery = Tensor::zeros(q.shape(), q.dtype(), q.device());
    ops.attention_scores_backward(q.view(), memory.keys.view(), dscores.view(), dquery.view(), dvalues.view(), true);
    return dquery;
  }
  Tensor dprojected = Tensor::zeros(saved.projected.shape(), q.dtype(), q.device());
  if (score_ == AttentionScore::general) {
    ops.attention_scores_backward(saved.projected.view(), memory.keys.view(), dscores.view(), dprojected.view(),
                                  dvalues.view(), true);
  } else {
    // One call accumulates all three: v's gradient adds to earlier ones, so the two
    // activation gradients start from zeros.
    Tensor dkeys = Tensor::zeros(memory.keys.shape(), q.dtype(), q.device());
    ops.additive_scores_backward(saved.projected.view(), memory.keys.view(), v_.view(), dscores.view(),
                                 dprojected.view(), dkeys.view(), v_grad_.view(), true);
    const Tensor dmemory = memory_projection_.backward(ops, flat_rows(memory.values).view(), flat_rows(dkeys).view(), true);
    ops.add_scaled(dmemory.view(), 1.0, flat_rows(dvalues).view());
  }
  return unflat_rows(query_projection_.backward(ops, flat_rows(q).view(), flat_rows(dprojected).view(), true), q);
}

std::vector<Parameter> Attention::parameters(const std::string& prefix) const {
  std::vector<Parameter> params;
  if (score_ == AttentionScore::general) return query_projection_.parameters(prefix);
  if (score_ == AttentionScore::additive) {
    for (Parameter& p : memory_projection_.parameters(prefix + "memory.")) params.push_back(std::move(p));
    for (Parameter& p : query_projection_.parameters(prefix + "query.")) params.push_back(std::move(p));
    params.push_back(Parameter{prefix + "v", v_, v_grad_});
  }
  return params;
}

}  // namespace gpurnn::train
