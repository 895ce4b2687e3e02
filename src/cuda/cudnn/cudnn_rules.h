#pragma once
// What the cudnn backend offers and what cuDNN's RNN API refuses, as pure host code (no cuDNN
// header), so CPU tests check it without a device.
//
// Algorithms, by the names make_backend("cudnn/<name>") takes (the first is the default):
//   standard                 CUDNN_RNN_ALGO_STANDARD
//   persist_static           CUDNN_RNN_ALGO_PERSIST_STATIC
//   persist_static_small_h   CUDNN_RNN_ALGO_PERSIST_STATIC_SMALL_H
//   persist_dynamic          CUDNN_RNN_ALGO_PERSIST_DYNAMIC (cudnnBuildRNNDynamic per batch size)
//
// The refusals below are the documented ones ("Features of RNN functions" in the cuDNN developer
// guide); every message starts "not supported by cuDNN: ". Anything else cuDNN refuses at run
// time (CUDNN_STATUS_NOT_SUPPORTED, e.g. a hidden size above a persistent kernel's limit on this
// card) becomes Error(unsupported) with the same prefix, from cudnn_status.h.

#include <optional>
#include <string>
#include <vector>

#include "gpurnn/dtype.h"
#include "gpurnn/rnn_descriptor.h"

namespace gpurnn::cuda {

enum class CudnnAlgorithm { standard, persist_static, persist_static_small_h, persist_dynamic };

const std::vector<std::string>& cudnn_algorithm_names();
const char* to_string(CudnnAlgorithm algorithm);
// "" is the default (standard); Error(unsupported) naming the offered ones for another name.
CudnnAlgorithm parse_cudnn_algorithm(const std::string& name);

// Why cuDNN cannot run `desc` in `dtype` with `algorithm` (a documented limit), or nullopt.
std::optional<std::string> cudnn_refusal(const RNNDescriptor& desc, DType dtype,
                                         CudnnAlgorithm algorithm);
// Why a training forward cannot run: inter-layer dropout (see cudnn_backend.h), or nullopt.
std::optional<std::string> cudnn_training_refusal(const RNNDescriptor& desc);
// Why backward_weights cannot run in `dtype`, or nullopt: half weights, whose gradients cuDNN
// writes in the half type where gpurnn's precision rule gives f32 (README "Half precision").
std::optional<std::string> cudnn_weight_gradient_refusal(DType dtype);
// Why a batch with these lengths cannot run, or nullopt: persist_static_small_h and
// persist_dynamic take only equal lengths. The developer guide's table of RNN features lists
// "variable sequence length in batch" as not supported by PERSIST_DYNAMIC (and by
// PERSIST_STATIC_SMALL_H, since it exists); PyTorch picks no persistent algorithm for a
// PackedSequence either.
std::optional<std::string> cudnn_lengths_refusal(CudnnAlgorithm algorithm, bool ragged);
// Why backward_data cannot run on this reserve, or nullopt: a reserve that backward_data has
// already been through. cudnnRNNBackwardData_v8 takes reserveSpace as input/output (it leaves
// there what cudnnRNNBackwardWeights_v8 reads, which takes it as input only) and cuDNN does not
// say that what the forward saved survives, so a second call could read its own leftovers. A copy
// of the reserve would double cuDNN's largest buffer for every training step; the backend refuses
// the second call instead (run the training forward again).
std::optional<std::string> cudnn_backward_data_refusal(bool reserve_through_backward_data);

}  // namespace gpurnn::cuda
