#pragma once
// The CPU backend across layers and directions: layouts (batch-first is transposed once),
// dropout between layers, and the order of the per-layer operations of layer_ops.h.
// Arguments are validated by the caller (cpu_backend.cpp).

#include "cpu/cpu_layout.h"
#include "gpurnn/backend.h"

namespace gpurnn::cpu {

template <class T>
void network_forward(const RNNWeights& weights, const ForwardArgs& args, const SequenceShape& shape);

template <class T>
void network_backward_data(const RNNWeights& weights, const BackwardDataArgs& args,
                           const SequenceShape& shape);

template <class T>
void network_backward_weights(const RNNWeights& weights, const BackwardWeightsArgs& args,
                              const SequenceShape& shape, RNNWeights& grads);

}  // namespace gpurnn::cpu
