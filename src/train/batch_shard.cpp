#include "train/batch_shard.h"

#include <cstring>

#include "gpurnn/error.h"

namespace gpurnn::train {
namespace {

// A host tensor seen as [outer, rows, inner] around `dim`.
struct RowLayout {
  std::int64_t outer = 1, rows = 0, inner = 1;
};

RowLayout row_layout(const Shape& shape, int dim, const char* function) {
  check_argument(dim >= 0 && dim < shape.rank(), function, "dim",
                 "must be in [0, " + std::to_string(shape.rank()) + "), got " + std::to_string(dim));
  RowLayout layout;
  for (int i = 0; i < dim; ++i) layout.outer *= shape[i];
  layout.rows = shape[dim];
  for (int i = dim + 1; i < shape.rank(); ++i) layout.inner *= shape[i];
  return layout;
}

}  // namespace

std::pair<std::int64_t, std::int64_t> shard_rows(std::int64_t rows, int rank, int ranks) {
  check_argument(ranks >= 1 && rank >= 0 && rank < ranks, "shard_rows", "rank",
                 "must be in [0, " + std::to_string(ranks) + "), got " + std::to_string(rank));
  return {rows * rank / ranks, rows * (rank + 1) / ranks};
}

Tensor slice_rows(const Tensor& whole, int dim, std::int64_t first, std::int64_t last) {
  check_argument(whole.device().is_cpu(), "slice_rows", "whole", "must be on the host");
  const RowLayout l = row_layout(whole.shape(), dim, "slice_rows");
  check_argument(0 <= first && first <= last && last <= l.rows, "slice_rows", "first, last",
                 "must satisfy 0 <= first <= last <= " + std::to_string(l.rows));
  std::vector<std::int64_t> dims(whole.shape().begin(), whole.shape().end());
  dims[static_cast<std::size_t>(dim)] = last - first;
  Tensor part = Tensor::empty(Shape(dims.begin(), dims.end()), whole.dtype());
  const std::size_t row_bytes = static_cast<std::size_t>(l.inner) * dtype_size(whole.dtype());
  const char* src = static_cast<const char*>(whole.data());
  char* dst = static_cast<char*>(part.data());
  for (std::int64_t o = 0; o < l.outer; ++o) {
    std::memcpy(dst + static_cast<std::size_t>(o * (last - first)) * row_bytes,
                src + static_cast<std::size_t>(o * l.rows + first) * row_bytes,
                static_cast<std::size_t>(last - first) * row_bytes);
  }
  return part;
}

void place_rows(const Tensor& part, int dim, std::int64_t first, Tensor& whole) {
  check_argument(part.device().is_cpu() && whole.device().is_cpu(), "place_rows", "part, whole",
                 "must be on the host");
  check_argument(part.dtype() == whole.dtype(), "place_rows", "part", "must have whole's dtype");
  const RowLayout p = row_layout(part.shape(), dim, "place_rows");
  const RowLayout w = row_layout(whole.shape(), dim, "place_rows");
  check_argument(p.outer == w.outer && p.inner == w.inner && first >= 0 && first + p.rows <= w.rows, "place_rows",
                 "part", "must fit at row " + std::to_string(first) + " of whole along dim " + std::to_string(dim));
  const std::size_t row_bytes = static_cast<std::size_t>(w.inner) * dtype_size(whole.dtype());
  const char* src = static_cast<const char*>(part.data());
  char* dst = static_cast<char*>(whole.data());
  for (std::int64_t o = 0; o < w.outer; ++o) {
    std::memcpy(dst + static_cast<std::size_t>(o * w.rows + first) * row_bytes,
                src + static_cast<std::size_t>(o * p.rows) * row_bytes, static_cast<std::size_t>(p.rows) * row_bytes);
  }
}

Batch shard_batch(const Batch& batch, TargetKind target, int rank, int ranks) {
  if (ranks == 1) return batch;
  const std::int64_t rows = batch.rows();
  check_argument(rows >= ranks, "shard_batch", "batch",
                 "has " + std::to_string(rows) + " rows, fewer than the " + std::to_string(ranks) +
                     " ranks that share it (use a batch of at least one row per rank)");
  const auto [first, last] = shard_rows(rows, rank, ranks);
  const bool final_targets = target == TargetKind::final_classes || target == TargetKind::final_values;
  Batch part;
  part.inputs = slice_rows(batch.inputs, 1, first, last);
  part.targets = slice_rows(batch.targets, final_targets ? 0 : 1, first, last);
  part.lengths = slice_rows(batch.lengths, 0, first, last);
  if (!batch.carry_state.empty()) {
    part.carry_state.assign(batch.carry_state.begin() + first, batch.carry_state.begin() + last);
  }
  return part;
}

}  // namespace gpurnn::train
