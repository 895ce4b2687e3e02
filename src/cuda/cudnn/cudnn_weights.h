#pragma once
// The cuDNN side of the weight conversion (cudnn_weight_plan.h plans it): where cuDNN keeps each
// piece of a weight space, and the device-to-device copies that move weights between gpurnn's
// flat buffer and that space (internal header).

#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstddef>
#include <vector>

#include "cuda/cudnn/cudnn_weight_plan.h"
#include "gpurnn/rnn_descriptor.h"

namespace gpurnn::cuda {

// Both directions of the conversion for one cuDNN RNN descriptor.
struct CudnnWeightMap {
  std::vector<WeightCopy> to_cudnn;    // flat buffer -> weight space
  std::vector<WeightCopy> from_cudnn;  // weight space -> flat buffer
  bool identity = false;               // the flat buffer can serve as the weight space as is
};

// Asks cudnnGetRNNWeightParams about every piece of `desc`. `space` must be a device buffer of
// `space_bytes` (cuDNN refuses a null one; it only computes addresses, nothing is read).
std::vector<CudnnLinLayer> query_weight_regions(cudnnHandle_t handle, cudnnRNNDescriptor_t rnn,
                                                const RNNDescriptor& desc, const void* space,
                                                std::size_t space_bytes, std::size_t elem_size);

CudnnWeightMap make_weight_map(cudnnHandle_t handle, cudnnRNNDescriptor_t rnn,
                               const RNNDescriptor& desc, const void* space,
                               std::size_t space_bytes, std::size_t elem_size,
                               std::int64_t flat_numel);

// One cudaMemcpyAsync (device to device) per copy, on `stream`.
void run_weight_copies(const std::vector<WeightCopy>& plan, const void* src, void* dst,
                       std::size_t elem_size, cudaStream_t stream);

}  // namespace gpurnn::cuda
