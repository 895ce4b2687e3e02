#include "cuda/cudnn/cudnn_setup.h"

#include "cuda/cudnn/cudnn_status.h"

namespace gpurnn::cuda {

std::shared_ptr<CudnnSetup> CudnnSetupCache::get(cudnnHandle_t handle, const RNNDescriptor& given,
                                                 DType dtype, std::int64_t batch) {
  RNNDescriptor desc = given;
  desc.dropout = 0.0;
  std::string key = to_string(desc) + " " + to_string(dtype);
  if (algorithm_ == CudnnAlgorithm::persist_dynamic) key += " B=" + std::to_string(batch);
  const std::lock_guard<std::mutex> lock(mutex_);
  if (auto found = setups_.find(key); found != setups_.end()) return found->second;

  auto setup = std::make_shared<CudnnSetup>();
  setup->desc = desc;
  setup->dtype = dtype;
  setup->rnn = make_rnn_descriptor(handle, desc, dtype, algorithm_);
  if (algorithm_ == CudnnAlgorithm::persist_dynamic) {
    // Compiles the persistent kernel for this batch size (slow, once per setup).
    GPURNN_CUDNN_CHECK(cudnnBuildRNNDynamic(handle, setup->rnn.rnn.get(), static_cast<int>(batch)));
  }
  GPURNN_CUDNN_CHECK(cudnnGetRNNWeightSpaceSize(handle, setup->rnn.rnn.get(), &setup->weight_space_bytes));
  setups_.emplace(key, setup);
  return setup;
}

const CudnnWeightMap& CudnnSetupCache::weight_map(cudnnHandle_t handle, CudnnSetup& setup,
                                                  const void* space, std::int64_t flat_numel) {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (!setup.weights) {
    setup.weights = make_weight_map(handle, setup.rnn.rnn.get(), setup.desc, space,
                                    setup.weight_space_bytes, dtype_size(setup.dtype), flat_numel);
  }
  return *setup.weights;
}

CudnnSizes cudnn_sizes(cudnnHandle_t handle, const CudnnSetup& setup, const SequenceShape& shape,
                       ForwardMode mode, const std::vector<int>& lengths) {
  CudnnSizes s;
  s.weight_space = setup.weight_space_bytes;
  const RnnDataDescOwner x = make_rnn_data_descriptor(setup.dtype, shape.batch_first, shape.seq_len,
                                                      setup.desc.input_size, lengths);
  std::size_t reserve = 0;
  GPURNN_CUDNN_CHECK(cudnnGetRNNTempSpaceSizes(
      handle, setup.rnn.rnn.get(),
      mode == ForwardMode::training ? CUDNN_FWD_MODE_TRAINING : CUDNN_FWD_MODE_INFERENCE, x.get(),
      &s.work, &reserve));
  if (mode == ForwardMode::training) s.reserve = reserve;
  return s;
}

CudnnSizes cudnn_sizes(cudnnHandle_t handle, const CudnnSetup& setup, const SequenceShape& shape,
                       ForwardMode mode) {
  return cudnn_sizes(handle, setup, shape, mode,
                     std::vector<int>(static_cast<std::size_t>(shape.batch), static_cast<int>(shape.seq_len)));
}

}  // namespace gpurnn::cuda
