#pragma once
// Device property sets for the persistent kernel's plan tests, from the vendors' published
// numbers (CUDA programming guide, compute capability tables; the cards' data sheets):
// multiprocessors, opt-in shared memory per block, registers per block, threads per block.

#include <vector>

#include "engine/persistent_plan.h"

namespace gpurnn::testing {

inline std::vector<engine::DeviceLimits> published_devices() {
  return {
      {"H100 SXM (sm_90)", 132, 227 * 1024, 65536, 1024, true},
      {"A100 (sm_80)", 108, 163 * 1024, 65536, 1024, true},
      {"L4 (sm_89)", 58, 99 * 1024, 65536, 1024, true},
      {"T4 (sm_75)", 40, 64 * 1024, 65536, 1024, true},
  };
}

}  // namespace gpurnn::testing
