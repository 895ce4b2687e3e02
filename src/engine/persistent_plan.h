#pragma once
// The launch plan of the persistent LSTM kernel (kernels/persistent_lstm.cu): whether one layer
// direction fits on the device, and how it is cut. A pure function of the problem and a few
// device properties, so CPU tests check it for many devices (H100, A100, L4, T4 property sets)
// and the CUDA backend fills DeviceLimits from cudaDeviceProp.
//
// The cut: one CTA per SM at most. CTA c owns hidden units [c*U, min(H, (c+1)*U)) and the rows
// of all four gates for them: its slice of W_hh (4*U rows of H) lives in shared memory for the
// whole launch, as does its slice of the cell state (U x B). Each step it stages h_{t-1} in
// batch chunks of `batch_chunk` sequences (a multiple of the batch tile), so the batch only
// costs shared memory for the cell state.
//
// A bidirectional layer runs both directions in one launch when the plan for half the SMs fits
// (each direction its own ctas; CudaOps::run_time_loop_pair), else one launch per direction.
//
// Shared memory (persistent_shared_bytes):
//   weights [4][U][H] of weight_size bytes, padded to 16 bytes  ·  h chunk [batch_chunk][H]  ·
//   cell state [U][B], both of elem_size bytes.
// A bf16/f16 call (elem_size 4, weight_size 2) keeps W_hh on chip in half: its weight slice takes
// half the bytes, so on the same SMs a hidden size about sqrt(2) larger fits (the slice grows as
// H^2 / SMs); the h chunk and the cell state stay f32.

#include <cstddef>
#include <cstdint>
#include <string>

#include "gpurnn/dtype.h"
#include "gpurnn/rnn_descriptor.h"
#include "kernels/persistent_lstm_args.h"

namespace gpurnn::engine {

// The kernel's variants, limits and shared-memory arithmetic (kernels/persistent_lstm_args.h).
using kernels::kPersistentMaxThreads;
using kernels::kPersistentMaxWarps;
using kernels::kReduceFull;
using kernels::kReduceScatter;
using kernels::kStageElements;
using kernels::kStageVectors;
using kernels::persistent_batch_tile;
using kernels::persistent_shared_bytes;
using kernels::persistent_shared_elements;
using kernels::PersistentReduction;
using kernels::PersistentStaging;

// What the plan needs of cudaDeviceProp (its field names in the comments).
struct DeviceLimits {
  std::string name;                        // name
  int sm_count = 0;                        // multiProcessorCount
  std::size_t shared_per_block_optin = 0;  // sharedMemPerBlockOptin (bytes)
  int registers_per_block = 0;             // regsPerBlock (32-bit registers)
  int max_threads_per_block = 0;           // maxThreadsPerBlock
  bool cooperative_launch = false;         // cooperativeLaunch
};

struct PersistentProblem {
  CellKind cell = CellKind::lstm;
  std::int64_t hidden = 0;      // H
  std::int64_t batch = 0;       // B
  std::int64_t proj_size = 0;   // LSTM projection (not supported by the kernel)
  std::size_t elem_size = 4;    // the compute and state element: 4 (f32) or 8 (f64)
  std::size_t weight_size = 0;  // a W_hh element on chip: 0 (= elem_size), or 2 (bf16/f16, elem_size 4)
};

// The problem of one layer direction of `desc` at `batch`, in elements of `elem_size` bytes.
inline PersistentProblem persistent_problem(const RNNDescriptor& desc, std::int64_t batch, std::size_t elem_size) {
  return {desc.cell, desc.hidden_size, batch, desc.proj_size, elem_size, 0};
}
// The problem of a call in `dtype`: f32 and f64 as above; bf16 and f16 compute in f32 with their
// half weights on chip (elem_size 4, weight_size 2).
inline PersistentProblem persistent_problem(const RNNDescriptor& desc, std::int64_t batch, DType dtype) {
  if (is_half(dtype)) return {desc.cell, desc.hidden_size, batch, desc.proj_size, 4, dtype_size(dtype)};
  return persistent_problem(desc, batch, dtype_size(dtype));
}

struct PersistentPlan {
  bool fits = false;
  std::string why_not;          // when !fits: the reason, naming the limit and the numbers
  int ctas = 0;                 // one per SM at most: ceil(H / units_per_cta)
  int units_per_cta = 0;        // U = ceil(H / sm_count); the last CTA may own fewer
  int threads = 0;              // 32 * warps, warps in [1, kPersistentMaxWarps]
  int batch_tile = 0;           // BT: sequences per warp item (a kernel template argument)
  int batch_chunk = 0;          // sequences of h_{t-1} staged at once, a multiple of BT
  std::size_t shared_bytes = 0; // dynamic shared memory per CTA
  int registers_per_thread = 0; // the budget: registers_per_block / threads, at most 255
};

// `auto`'s crossover: up to hidden size `max_hidden` it prefers the persistent kernel for batches
// up to `max_batch` (rows in increasing max_hidden; the last one covers every larger H). Where the
// numbers come from: kAutoCrossoverSource. bench/auto_crossover.py prints new rows from a lease
// run's bench.json (the largest batch at which cuda/persistent beat cuda/standard, per H).
struct AutoCrossover {
  std::int64_t max_hidden;
  std::int64_t max_batch;
};
inline constexpr AutoCrossover kAutoCrossover[] = {
    {256, 32}, {512, 32}, {1024, 32}, {INT64_MAX, 32},
};
inline constexpr const char* kAutoCrossoverSource =
    "PERSISTENT.md's estimate (B <= 32, where FP32 dot products stop beating tensor-core GEMMs); "
    "not yet measured on a GPU";
// The largest batch `auto` runs the persistent kernel at for hidden size `hidden`.
std::int64_t auto_persistent_max_batch(std::int64_t hidden);

PersistentPlan plan_persistent_lstm(const PersistentProblem& problem, const DeviceLimits& device);
// The plan of each direction of a bidirectional layer run in one launch: the same plan on half
// the SMs, so that both directions' 2 * ctas CTAs are resident at once.
PersistentPlan plan_persistent_lstm_pair(const PersistentProblem& problem, const DeviceLimits& device);

// `auto`: the persistent kernel when it fits and the problem is latency-bound (small batch).
bool auto_prefers_persistent(const PersistentPlan& plan, std::int64_t hidden, std::int64_t batch);

}  // namespace gpurnn::engine
