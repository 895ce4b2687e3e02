#pragma once
// RAII owners of the cuDNN descriptors the cudnn backend uses, and how gpurnn's problem maps
// onto them (internal header).
//
//   RNN descriptor    cell (RNN_TANH, RNN_RELU, LSTM, GRU), biases (two or none), directions,
//                     linear input, sizes, projection, algorithm; f32 in FMA math (no TF32, so
//                     results stay within the cpu comparison's 1e-5), f64 in f64; padded I/O
//                     enabled (the unpacked layouts need it); a dropout descriptor of rate 0
//                     (training with dropout is refused, cudnn_rules.h).
//   RNN data          [T, B, F] time-major (SEQ_MAJOR_UNPACKED) or [B, T, F] with batch_first
//                     (BATCH_MAJOR_UNPACKED), per-sequence lengths, padding filled with zeros
//                     in outputs.
//   state tensor      [L*D, B, F], packed.

#include <cudnn.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "cuda/cudnn/cudnn_rules.h"
#include "gpurnn/dtype.h"
#include "gpurnn/rnn_descriptor.h"

namespace gpurnn::cuda {

cudnnDataType_t cudnn_data_type(DType dtype);

// A cuDNN descriptor handle destroyed with its owner (move-only).
template <class Handle, cudnnStatus_t (*Destroy)(Handle)>
class CudnnOwned {
 public:
  CudnnOwned() = default;
  explicit CudnnOwned(Handle h) : handle_(h) {}
  CudnnOwned(CudnnOwned&& o) noexcept : handle_(std::exchange(o.handle_, nullptr)) {}
  CudnnOwned& operator=(CudnnOwned&& o) noexcept {
    std::swap(handle_, o.handle_);
    return *this;
  }
  CudnnOwned(const CudnnOwned&) = delete;
  CudnnOwned& operator=(const CudnnOwned&) = delete;
  ~CudnnOwned() {
    if (handle_ != nullptr) (void)Destroy(handle_);
  }
  Handle get() const { return handle_; }

 private:
  Handle handle_ = nullptr;
};

using RnnDescOwner = CudnnOwned<cudnnRNNDescriptor_t, cudnnDestroyRNNDescriptor>;
using DropoutDescOwner = CudnnOwned<cudnnDropoutDescriptor_t, cudnnDestroyDropoutDescriptor>;
using RnnDataDescOwner = CudnnOwned<cudnnRNNDataDescriptor_t, cudnnDestroyRNNDataDescriptor>;
using TensorDescOwner = CudnnOwned<cudnnTensorDescriptor_t, cudnnDestroyTensorDescriptor>;

// An RNN descriptor with its dropout descriptor (which must outlive it).
struct RnnDescriptor {
  DropoutDescOwner dropout;
  RnnDescOwner rnn;
};

// Throws Error(unsupported, "not supported by cuDNN: ...") when cuDNN refuses the combination.
RnnDescriptor make_rnn_descriptor(cudnnHandle_t handle, const RNNDescriptor& desc, DType dtype,
                                  CudnnAlgorithm algorithm);

// `lengths` has B entries, each in [1, T].
RnnDataDescOwner make_rnn_data_descriptor(DType dtype, bool batch_first, std::int64_t seq_len,
                                          std::int64_t features, const std::vector<int>& lengths);

// [rows, batch, features], packed.
TensorDescOwner make_state_descriptor(DType dtype, std::int64_t rows, std::int64_t batch,
                                      std::int64_t features);

}  // namespace gpurnn::cuda
