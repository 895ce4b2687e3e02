#include "cuda/cudnn/cudnn_rules.h"

#include "gpurnn/error.h"

namespace gpurnn::cuda {
namespace {

constexpr const char* kPrefix = "not supported by cuDNN: ";

}  // namespace

const std::vector<std::string>& cudnn_algorithm_names() {
  static const std::vector<std::string> names = {"standard", "persist_static",
                                                 "persist_static_small_h", "persist_dynamic"};
  return names;
}

const char* to_string(CudnnAlgorithm algorithm) {
  switch (algorithm) {
    case CudnnAlgorithm::standard: return "standard";
    case CudnnAlgorithm::persist_static: return "persist_static";
    case CudnnAlgorithm::persist_static_small_h: return "persist_static_small_h";
    case CudnnAlgorithm::persist_dynamic: return "persist_dynamic";
  }
  return "?";
}

CudnnAlgorithm parse_cudnn_algorithm(const std::string& name) {
  if (name.empty() || name == "standard") return CudnnAlgorithm::standard;
  if (name == "persist_static") return CudnnAlgorithm::persist_static;
  if (name == "persist_static_small_h") return CudnnAlgorithm::persist_static_small_h;
  if (name == "persist_dynamic") return CudnnAlgorithm::persist_dynamic;
  std::string known;
  for (const std::string& n : cudnn_algorithm_names()) known += (known.empty() ? "" : ", ") + n;
  throw Error(ErrorCode::unsupported, "make_backend: algorithm '" + name +
                                          "' is not offered by backend 'cudnn'; it offers: " + known);
}

std::optional<std::string> cudnn_refusal(const RNNDescriptor& desc, DType dtype,
                                         CudnnAlgorithm algorithm) {
  const bool cudnn_cell = desc.cell == CellKind::rnn_tanh || desc.cell == CellKind::rnn_relu ||
                          desc.cell == CellKind::lstm || desc.cell == CellKind::gru;
  if (!cudnn_cell) {
    return std::string(kPrefix) + "cell " + to_string(desc.cell) +
           " (cuDNN offers rnn_tanh, rnn_relu, lstm and gru; its vanilla RNN has no other activation)";
  }
  if (!is_floating(dtype)) {
    return std::string(kPrefix) + "dtype " + to_string(dtype) +
           " (the cudnn backend computes in f32, f64, bf16 or f16)";
  }
  if (algorithm == CudnnAlgorithm::standard) return std::nullopt;
  const std::string algo = std::string("algorithm ") + to_string(algorithm);
  if (desc.proj_size > 0) {
    return kPrefix + algo + " with an LSTM projection (proj_size = " +
           std::to_string(desc.proj_size) + "): only the standard algorithm projects";
  }
  if (dtype == DType::f64 && (algorithm == CudnnAlgorithm::persist_dynamic ||
                              algorithm == CudnnAlgorithm::persist_static_small_h)) {
    return kPrefix + algo + " in f64 (it computes in f32 or f16 only)";
  }
  return std::nullopt;
}

std::optional<std::string> cudnn_training_refusal(const RNNDescriptor& desc) {
  if (desc.dropout > 0.0 && desc.num_layers > 1) {
    return std::string(kPrefix) + "training with inter-layer dropout (dropout = " +
           std::to_string(desc.dropout) +
           "): cuDNN draws its own mask from its dropout states, not gpurnn's counter-based mask "
           "of dropout_seed, so the result would match neither the cpu backend nor a rerun with "
           "the same seed; train with the cuda or cpu backend, or with dropout = 0";
  }
  return std::nullopt;
}

std::optional<std::string> cudnn_weight_gradient_refusal(DType dtype) {
  if (is_half(dtype)) {
    return std::string("backward_weights in ") + to_string(dtype) +
           ": cuDNN writes the weight gradients of half weights in the half type, summed over every "
           "step and sequence, while gpurnn's precision rule gives them in f32 (a half sum over T*B "
           "rows loses most of its bits); train half weights with the cuda or cpu backend";
  }
  return std::nullopt;
}

std::optional<std::string> cudnn_lengths_refusal(CudnnAlgorithm algorithm, bool ragged) {
  if (ragged && (algorithm == CudnnAlgorithm::persist_static_small_h ||
                 algorithm == CudnnAlgorithm::persist_dynamic)) {
    return std::string(kPrefix) + "algorithm " + to_string(algorithm) +
           " with sequences of different lengths in one batch";
  }
  return std::nullopt;
}

std::optional<std::string> cudnn_backward_data_refusal(bool reserve_through_backward_data) {
  if (reserve_through_backward_data) {
    return std::string(kPrefix) +
           "backward_data again on a reserve that backward_data has already been through: "
           "cuDNN's backward data writes into the reserve it reads, so a second call would not "
           "see what the forward saved; run the training forward again";
  }
  return std::nullopt;
}

}  // namespace gpurnn::cuda
