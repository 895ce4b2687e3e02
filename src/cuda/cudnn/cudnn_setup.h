#pragma once
// The cuDNN state of one problem, built once and kept by the cudnn backend: the RNN descriptor
// (built with cudnnBuildRNNDynamic for persist_dynamic, whose plan is per batch size), the
// weight-space size, and the weight conversion map (asked of cuDNN on the first call that has a
// device buffer to ask with). Internal header.

#include <cudnn.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cuda/cudnn/cudnn_descriptors.h"
#include "cuda/cudnn/cudnn_layout.h"
#include "cuda/cudnn/cudnn_rules.h"
#include "cuda/cudnn/cudnn_weights.h"
#include "gpurnn/backend.h"

namespace gpurnn::cuda {

struct CudnnSetup {
  RNNDescriptor desc;  // dropout 0: the cuDNN descriptor never drops (cudnn_rules.h)
  DType dtype = DType::f32;
  RnnDescriptor rnn;
  std::size_t weight_space_bytes = 0;
  std::optional<CudnnWeightMap> weights;  // guarded by the cache's mutex until set
};

class CudnnSetupCache {
 public:
  explicit CudnnSetupCache(CudnnAlgorithm algorithm) : algorithm_(algorithm) {}

  // The setup for (desc, dtype) and, for persist_dynamic, `batch`; built on first use.
  std::shared_ptr<CudnnSetup> get(cudnnHandle_t handle, const RNNDescriptor& desc, DType dtype,
                                  std::int64_t batch);
  // The setup's weight map, asked of cuDNN with `space` (a device buffer of the weight-space
  // size) the first time.
  const CudnnWeightMap& weight_map(cudnnHandle_t handle, CudnnSetup& setup, const void* space,
                                   std::int64_t flat_numel);

 private:
  CudnnAlgorithm algorithm_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<CudnnSetup>> setups_;
};

// cuDNN's sizes for `shape` in `mode`, every sequence of length T (what the size queries know;
// a call checks the sizes for its own lengths fit what these reserved).
CudnnSizes cudnn_sizes(cudnnHandle_t handle, const CudnnSetup& setup, const SequenceShape& shape,
                       ForwardMode mode);
CudnnSizes cudnn_sizes(cudnnHandle_t handle, const CudnnSetup& setup, const SequenceShape& shape,
                       ForwardMode mode, const std::vector<int>& lengths);

}  // namespace gpurnn::cuda
