#include "cuda/cudnn/cudnn_weights.h"

#include <string>

#include "kernels/cuda_status.h"
#include "cuda/cudnn/cudnn_descriptors.h"
#include "cuda/cudnn/cudnn_status.h"
#include "gpurnn/error.h"

namespace gpurnn::cuda {
namespace {

// Where `addr` lies in the space and how many elements `d` describes; offset -1 for null.
CudnnRegion region_of(const void* addr, cudnnTensorDescriptor_t d, const void* space,
                      std::size_t elem_size) {
  CudnnRegion r;
  if (addr == nullptr) return r;
  const std::ptrdiff_t bytes = static_cast<const char*>(addr) - static_cast<const char*>(space);
  if (bytes < 0 || bytes % static_cast<std::ptrdiff_t>(elem_size) != 0) {
    throw Error(ErrorCode::internal, "cudnnGetRNNWeightParams returned an address " +
                                         std::to_string(bytes) +
                                         " bytes from the weight space start, not an element boundary inside it");
  }
  r.offset = bytes / static_cast<std::ptrdiff_t>(elem_size);
  cudnnDataType_t type{};
  int rank = 0;
  int dims[8] = {0};
  int strides[8] = {0};
  GPURNN_CUDNN_CHECK(cudnnGetTensorNdDescriptor(d, 8, &type, &rank, dims, strides));
  r.numel = 1;
  for (int i = 0; i < rank; ++i) r.numel *= dims[i];
  return r;
}

}  // namespace

std::vector<CudnnLinLayer> query_weight_regions(cudnnHandle_t handle, cudnnRNNDescriptor_t rnn,
                                                const RNNDescriptor& desc, const void* space,
                                                std::size_t space_bytes, std::size_t elem_size) {
  cudnnTensorDescriptor_t m = nullptr;
  cudnnTensorDescriptor_t b = nullptr;
  GPURNN_CUDNN_CHECK(cudnnCreateTensorDescriptor(&m));
  const TensorDescOwner m_owner(m);
  GPURNN_CUDNN_CHECK(cudnnCreateTensorDescriptor(&b));
  const TensorDescOwner b_owner(b);
  std::vector<CudnnLinLayer> regions;
  for (const CudnnParamQuery& q : cudnn_param_queries(desc)) {
    void* m_addr = nullptr;
    void* b_addr = nullptr;
    GPURNN_CUDNN_CHECK(cudnnGetRNNWeightParams(handle, rnn, q.pseudo_layer, space_bytes, space,
                                               q.lin_layer_id, m, &m_addr, b, &b_addr));
    CudnnLinLayer l;
    l.pseudo_layer = q.pseudo_layer;
    l.lin_layer_id = q.lin_layer_id;
    l.matrix = region_of(m_addr, m, space, elem_size);
    l.bias = region_of(b_addr, b, space, elem_size);
    regions.push_back(l);
  }
  return regions;
}

CudnnWeightMap make_weight_map(cudnnHandle_t handle, cudnnRNNDescriptor_t rnn,
                               const RNNDescriptor& desc, const void* space,
                               std::size_t space_bytes, std::size_t elem_size,
                               std::int64_t flat_numel) {
  const auto space_numel = static_cast<std::int64_t>(space_bytes / elem_size);
  CudnnWeightMap map;
  map.to_cudnn = plan_to_cudnn(desc, query_weight_regions(handle, rnn, desc, space, space_bytes, elem_size),
                               space_numel);
  map.from_cudnn = reversed(map.to_cudnn);
  map.identity = is_identity(map.to_cudnn, flat_numel, space_numel);
  return map;
}

void run_weight_copies(const std::vector<WeightCopy>& plan, const void* src, void* dst,
                       std::size_t elem_size, cudaStream_t stream) {
  for (const WeightCopy& c : plan) {
    GPURNN_CUDA_CHECK(cudaMemcpyAsync(static_cast<char*>(dst) + c.dst * elem_size,
                                      static_cast<const char*>(src) + c.src * elem_size,
                                      static_cast<std::size_t>(c.count) * elem_size,
                                      cudaMemcpyDeviceToDevice, stream));
  }
}

}  // namespace gpurnn::cuda
