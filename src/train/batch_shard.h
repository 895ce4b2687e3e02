#pragma once
// Data parallelism by rows (internal header): rank r of N takes rows [r*B/N, (r+1)*B/N) of every
// global batch, and of the carried stream state; the pieces of the ranks, placed back at their
// rows, are the global tensor again.

#include <cstdint>
#include <utility>

#include "gpurnn/train/batch.h"

namespace gpurnn::train {

// Rows [first, last) of `rows` that `rank` of `ranks` owns.
std::pair<std::int64_t, std::int64_t> shard_rows(std::int64_t rows, int rank, int ranks);

// Rows [first, last) of a host tensor along `dim` (a new contiguous host tensor).
Tensor slice_rows(const Tensor& whole, int dim, std::int64_t first, std::int64_t last);
// whole[..., first + i, ...] = part[..., i, ...] along `dim` (both on the host).
void place_rows(const Tensor& part, int dim, std::int64_t first, Tensor& whole);

// The rows of a host batch that `rank` of `ranks` trains on. Error(invalid_argument) when the
// batch has fewer rows than there are ranks (a rank would have none).
Batch shard_batch(const Batch& batch, TargetKind target, int rank, int ranks);

}  // namespace gpurnn::train
