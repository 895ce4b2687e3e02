#include "cuda/cudnn/cudnn_descriptors.h"

#include <string>

#include "cuda/cudnn/cudnn_status.h"
#include "gpurnn/error.h"

namespace gpurnn::cuda {
namespace {

cudnnRNNMode_t cell_mode(CellKind cell) {
  switch (cell) {
    case CellKind::rnn_tanh: return CUDNN_RNN_TANH;
    case CellKind::rnn_relu: return CUDNN_RNN_RELU;
    case CellKind::lstm: return CUDNN_LSTM;
    case CellKind::gru: return CUDNN_GRU;
    default: break;  // rnn_sigmoid: cuDNN's vanilla RNN has tanh and relu only
  }
  throw Error(ErrorCode::unsupported,
              std::string("not supported by cuDNN: cell ") + to_string(cell));
}

cudnnRNNAlgo_t cudnn_algo(CudnnAlgorithm algorithm) {
  switch (algorithm) {
    case CudnnAlgorithm::standard: return CUDNN_RNN_ALGO_STANDARD;
    case CudnnAlgorithm::persist_static: return CUDNN_RNN_ALGO_PERSIST_STATIC;
    case CudnnAlgorithm::persist_static_small_h: return CUDNN_RNN_ALGO_PERSIST_STATIC_SMALL_H;
    case CudnnAlgorithm::persist_dynamic: return CUDNN_RNN_ALGO_PERSIST_DYNAMIC;
  }
  return CUDNN_RNN_ALGO_STANDARD;
}

// cuDNN takes int32 sizes; gpurnn's are int64.
int32_t as_int(std::int64_t value, const char* what) {
  if (value < 0 || value > INT32_MAX) {
    throw Error(ErrorCode::unsupported, std::string("not supported by cuDNN: ") + what + " = " +
                                            std::to_string(value) + " (cuDNN takes 32-bit sizes)");
  }
  return static_cast<int32_t>(value);
}

}  // namespace

cudnnDataType_t cudnn_data_type(DType dtype) {
  if (dtype == DType::f32) return CUDNN_DATA_FLOAT;
  if (dtype == DType::f64) return CUDNN_DATA_DOUBLE;
  if (dtype == DType::f16) return CUDNN_DATA_HALF;
  if (dtype == DType::bf16) return CUDNN_DATA_BFLOAT16;
  throw Error(ErrorCode::unsupported,
              std::string("not supported by cuDNN: dtype ") + to_string(dtype) + " (f32, f64, bf16 or f16 only)");
}

RnnDescriptor make_rnn_descriptor(cudnnHandle_t handle, const RNNDescriptor& desc, DType dtype,
                                  CudnnAlgorithm algorithm) {
  RnnDescriptor out;
  cudnnDropoutDescriptor_t dropout = nullptr;
  GPURNN_CUDNN_CHECK(cudnnCreateDropoutDescriptor(&dropout));
  out.dropout = DropoutDescOwner(dropout);
  // Rate 0 needs no states buffer: nothing is allocated and no kernel runs.
  GPURNN_CUDNN_CHECK(cudnnSetDropoutDescriptor(dropout, handle, 0.0F, nullptr, 0, 0));

  cudnnRNNDescriptor_t rnn = nullptr;
  GPURNN_CUDNN_CHECK(cudnnCreateRNNDescriptor(&rnn));
  out.rnn = RnnDescOwner(rnn);
  const cudnnDataType_t type = cudnn_data_type(dtype);
  // Half data computes in f32 (mathPrec FLOAT, as gpurnn's rule sums products in f32) on tensor
  // cores; f32 in FMA math, never TF32.
  const cudnnDataType_t math_prec = is_half(dtype) ? CUDNN_DATA_FLOAT : type;
  const cudnnMathType_t math = is_half(dtype)         ? CUDNN_TENSOR_OP_MATH
                               : dtype == DType::f32 ? CUDNN_FMA_MATH
                                                     : CUDNN_DEFAULT_MATH;
  GPURNN_CUDNN_CHECK(cudnnSetRNNDescriptor_v8(
      rnn, cudnn_algo(algorithm), cell_mode(desc.cell),
      desc.bias ? CUDNN_RNN_DOUBLE_BIAS : CUDNN_RNN_NO_BIAS,
      desc.bidirectional ? CUDNN_BIDIRECTIONAL : CUDNN_UNIDIRECTIONAL, CUDNN_LINEAR_INPUT, type, math_prec,
      math, as_int(desc.input_size, "input_size"), as_int(desc.hidden_size, "hidden_size"),
      as_int(desc.state_size(), "proj_size"),  // = hidden_size when not projecting, as cuDNN asks
      desc.num_layers, dropout, CUDNN_RNN_PADDED_IO_ENABLED));
  return out;
}

RnnDataDescOwner make_rnn_data_descriptor(DType dtype, bool batch_first, std::int64_t seq_len,
                                          std::int64_t features, const std::vector<int>& lengths) {
  cudnnRNNDataDescriptor_t d = nullptr;
  GPURNN_CUDNN_CHECK(cudnnCreateRNNDataDescriptor(&d));
  RnnDataDescOwner owner(d);
  // Written into padded positions of outputs (y, dx), which gpurnn promises are zero. cuDNN reads
  // it as one value of the data type; zero is all-zero bits in each of them.
  double zero = 0.0;
  void* fill = &zero;
  GPURNN_CUDNN_CHECK(cudnnSetRNNDataDescriptor(
      d, cudnn_data_type(dtype),
      batch_first ? CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED : CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_UNPACKED,
      as_int(seq_len, "T"), as_int(static_cast<std::int64_t>(lengths.size()), "B"),
      as_int(features, "features"), lengths.data(), fill));
  return owner;
}

TensorDescOwner make_state_descriptor(DType dtype, std::int64_t rows, std::int64_t batch,
                                      std::int64_t features) {
  cudnnTensorDescriptor_t d = nullptr;
  GPURNN_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d));
  TensorDescOwner owner(d);
  const int dims[3] = {as_int(rows, "L*D"), as_int(batch, "B"), as_int(features, "state size")};
  const int strides[3] = {dims[1] * dims[2], dims[2], 1};
  GPURNN_CUDNN_CHECK(cudnnSetTensorNdDescriptor(d, cudnn_data_type(dtype), 3, dims, strides));
  return owner;
}

}  // namespace gpurnn::cuda
