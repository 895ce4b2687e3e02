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
// Why a batch with these lengths cannot run (small_h takes only equal lengths), or nullopt.
std::optional<std::string> cudnn_lengths_refusal(CudnnAlgorithm algorithm, bool ragged);

}  // namespace gpurnn::cuda
