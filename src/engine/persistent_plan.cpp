#include "engine/persistent_plan.h"

#include <algorithm>
#include <climits>

namespace gpurnn::engine {
namespace {

PersistentPlan refused(std::string why) {
  PersistentPlan p;
  p.why_not = std::move(why);
  return p;
}

std::string kib(std::size_t bytes) {
  return std::to_string(bytes) + " bytes (" + std::to_string(bytes / 1024) + " KiB)";
}

}  // namespace

PersistentPlan plan_persistent_lstm(const PersistentProblem& problem, const DeviceLimits& device) {
  const std::int64_t H = problem.hidden, B = problem.batch;
  const std::size_t e = problem.elem_size;
  const std::size_t ws = problem.weight_size == 0 ? e : problem.weight_size;
  if (problem.cell != CellKind::lstm) {
    return refused(std::string("the persistent kernel runs LSTM cells only, not ") + to_string(problem.cell));
  }
  if (problem.proj_size > 0) return refused("the persistent kernel does not support an LSTM projection (proj_size > 0)");
  if (e != 4 && e != 8) return refused("the persistent kernel computes in f32 or f64");
  if (ws != e && !(ws == 2 && e == 4)) {
    return refused("the persistent kernel keeps W_hh in its compute type, or in bf16/f16 when it computes in f32");
  }
  if (H <= 0 || B <= 0) return refused("hidden size and batch must be positive");
  // The kernel's geometry is int; its addresses are 64-bit.
  if (4 * H > INT_MAX || B > INT_MAX) return refused("hidden size or batch too large for the kernel's int geometry");
  if (!device.cooperative_launch) {
    return refused("device " + device.name + " does not support cooperative launches");
  }
  if (device.sm_count <= 0) return refused("device " + device.name + " reports no multiprocessors");

  PersistentPlan p;
  p.units_per_cta = static_cast<int>((H + device.sm_count - 1) / device.sm_count);
  p.ctas = static_cast<int>((H + p.units_per_cta - 1) / p.units_per_cta);
  p.batch_tile = persistent_batch_tile(B);
  const std::int64_t U = p.units_per_cta, BT = p.batch_tile;
  const std::int64_t tiles = (B + BT - 1) / BT;
  const std::size_t limit = device.shared_per_block_optin;
  const auto bytes = [&](std::int64_t chunk) {
    return static_cast<std::size_t>(persistent_shared_bytes(H, U, B, chunk, static_cast<std::int64_t>(e),
                                                            static_cast<std::int64_t>(ws)));
  };
  const std::size_t fixed = bytes(0);
  const std::size_t per_tile = static_cast<std::size_t>(BT * H) * e;
  if (fixed + per_tile > limit) {
    return refused("the persistent kernel needs " + kib(fixed + per_tile) + " of shared memory per CTA (W_hh slice of " +
                   std::to_string(4 * U) + " rows x H=" + std::to_string(H) + (ws == 2 ? " in 16-bit weights" : "") +
                   ", h_{t-1} of " + std::to_string(BT) +
                   " sequences, cell state of " + std::to_string(U) + " units x B=" + std::to_string(B) +
                   ") but device " + device.name + " allows " + kib(limit) + " per block");
  }
  // As many batch tiles of h_{t-1} at once as fit: fewer chunks, fewer CTA barriers per step.
  const std::int64_t chunk_tiles = std::min<std::int64_t>(tiles, static_cast<std::int64_t>((limit - fixed) / per_tile));
  p.batch_chunk = static_cast<int>(chunk_tiles * BT);
  p.shared_bytes = bytes(p.batch_chunk);
  const std::int64_t items = U * chunk_tiles;  // warp work items of a full chunk
  p.threads = 32 * static_cast<int>(std::clamp<std::int64_t>(items, 1, kPersistentMaxWarps));
  if (p.threads > device.max_threads_per_block) {
    return refused("device " + device.name + " allows " + std::to_string(device.max_threads_per_block) +
                   " threads per block; the persistent kernel needs " + std::to_string(p.threads));
  }
  p.registers_per_thread = std::min(255, device.registers_per_block / p.threads / 8 * 8);
  p.fits = true;
  return p;
}

std::int64_t auto_persistent_max_batch(std::int64_t hidden) {
  for (const AutoCrossover& row : kAutoCrossover) {
    if (hidden <= row.max_hidden) return row.max_batch;
  }
  return 0;
}

PersistentPlan plan_persistent_lstm_pair(const PersistentProblem& problem, const DeviceLimits& device) {
  DeviceLimits half = device;
  half.sm_count /= 2;
  return plan_persistent_lstm(problem, half);
}

bool auto_prefers_persistent(const PersistentPlan& plan, std::int64_t hidden, std::int64_t batch) {
  return plan.fits && batch <= auto_persistent_max_batch(hidden);
}

}  // namespace gpurnn::engine
