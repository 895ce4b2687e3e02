#pragma once
// Argument checks shared by every backend, so each reports a bad argument with the same words:
// "<call>: argument '<name>' <what is wrong>, expected <what>".

#include <cstddef>
#include <cstdint>

#include "gpurnn/backend.h"

namespace gpurnn {

// A backend calls, in order: check_weights, sequence_shape_of (T and B read from x, which must be
// [T, B, I] or [B, T, I]), check_forward / check_backward_*, then check_buffer for the workspace
// and reserve sizes it computes from that shape.
SequenceShape sequence_shape_of(const char* call, const char* arg, ConstTensorView x,
                                std::int64_t input_size, bool batch_first);

// The shape of x or y for `features` per step: [T, B, F], or [B, T, F] when batch_first.
Shape sequence_tensor_shape(const SequenceShape& shape, std::int64_t features);

void check_weights(const char* call, const RNNWeights& weights, Device device);
void check_forward(const RNNWeights& weights, const ForwardArgs& args, const SequenceShape& shape);
void check_backward_data(const RNNWeights& weights, const BackwardDataArgs& args,
                         const SequenceShape& shape);
void check_backward_weights(const RNNWeights& weights, const BackwardWeightsArgs& args,
                            const SequenceShape& shape, const RNNWeights& grads);
// `buffer` must be a non-empty view on `device` of at least `needed` bytes.
void check_buffer(const char* call, const char* arg, ConstTensorView buffer, std::size_t needed,
                  Device device);

}  // namespace gpurnn
