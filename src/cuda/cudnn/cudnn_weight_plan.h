#pragma once
// The weight conversion between gpurnn's flat buffer (PyTorch layout, gpurnn/rnn_weights.h) and
// cuDNN's opaque weight space, planned on the host as a list of contiguous copies. Pure: no
// cuDNN header and no device, so CPU tests check the plan (cudnn_weights.h asks cuDNN where the
// pieces are and runs the copies).
//
// cuDNN addresses a weight space by pseudo-layer (layer * D + direction, D = 2 when
// bidirectional) and linLayerID (cudnnGetRNNWeightParams in the cuDNN API reference):
//   vanilla RNN  0: W (input)            1: R (recurrent)
//   LSTM         0-3: W_i, W_f, W_c, W_o  4-7: R_i, R_f, R_c, R_o  8: the projection (no bias)
//   GRU          0-2: W_r, W_z, W_h       3-5: R_r, R_z, R_h
// Each ID has a matrix (row-major [H, I_k], [H, H_out], or [H_out, H] for the projection) and,
// with biases, a bias of H (the input GEMM's for 0..G-1, the recurrent GEMM's for G..2G-1).
// That is PyTorch's gate order (LSTM i,f,g,o; GRU r,z,n, and cuDNN's GRU applies r to
// R_h h + b_Rh as PyTorch does), so gate g of weight_ih_l{k} is linLayerID g, of weight_hh
// linLayerID G + g, with no reordering inside a gate.

#include <cstdint>
#include <vector>

#include "gpurnn/rnn_descriptor.h"

namespace gpurnn::cuda {

// linLayerID of the LSTM projection matrix.
constexpr int kCudnnProjectionLinLayer = 8;

struct CudnnParamQuery {
  int pseudo_layer;
  int lin_layer_id;
};

// A piece of the weight space, in elements from its start; offset < 0: cuDNN reported none.
struct CudnnRegion {
  std::int64_t offset = -1;
  std::int64_t numel = 0;
};

// What cudnnGetRNNWeightParams reported for one query.
struct CudnnLinLayer {
  int pseudo_layer = 0;
  int lin_layer_id = 0;
  CudnnRegion matrix;
  CudnnRegion bias;
};

// One contiguous copy, in elements.
struct WeightCopy {
  std::int64_t src = 0;
  std::int64_t dst = 0;
  std::int64_t count = 0;

  bool operator==(const WeightCopy& o) const {
    return src == o.src && dst == o.dst && count == o.count;
  }
};

// Every (pseudo-layer, linLayerID) that holds a parameter of `desc`, pseudo-layer major.
std::vector<CudnnParamQuery> cudnn_param_queries(const RNNDescriptor& desc);

// The copies from gpurnn's flat buffer (src) into cuDNN's weight space (dst), in src order, with
// neighbours that are contiguous on both sides merged into one. Throws Error(internal) when
// `regions` lacks a piece, a piece has the wrong size, lies outside `weight_space_numel`
// elements or overlaps another.
std::vector<WeightCopy> plan_to_cudnn(const RNNDescriptor& desc,
                                      const std::vector<CudnnLinLayer>& regions,
                                      std::int64_t weight_space_numel);

// The same copies the other way (cuDNN's space -> gpurnn's flat buffer).
std::vector<WeightCopy> reversed(const std::vector<WeightCopy>& plan);

// True when every element lands at its own offset: the flat buffer already is a cuDNN weight
// space (of at least `weight_space_numel` elements when `flat_numel` is that large), so no copy
// is needed.
bool is_identity(const std::vector<WeightCopy>& plan, std::int64_t flat_numel,
                 std::int64_t weight_space_numel);

}  // namespace gpurnn::cuda
