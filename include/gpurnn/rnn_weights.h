#pragma once
// The parameters of an RNN, named and shaped exactly as in PyTorch's state_dict:
//   weight_ih_l{k}[_reverse]  [G*H, I_k]     gate rows: LSTM i,f,g,o; GRU r,z,n
//   weight_hh_l{k}[_reverse]  [G*H, H_out]
//   bias_ih_l{k}[_reverse]    [G*H]           (when bias)
//   bias_hh_l{k}[_reverse]    [G*H]           (when bias)
//   weight_hr_l{k}[_reverse]  [H_out, H]      (LSTM with proj_size > 0)
// All parameters live in one flat buffer, in state_dict order (layer, direction, then the order
// above), so an optimizer or an all-reduce sees one contiguous array. The same class holds
// gradients.

#include <cstdint>
#include <string>
#include <vector>

#include "gpurnn/rnn_descriptor.h"
#include "gpurnn/tensor.h"

namespace gpurnn {

enum class ParamKind { weight_ih, weight_hh, bias_ih, bias_hh, weight_hr };

struct ParameterInfo {
  std::string name;     // e.g. "weight_hh_l1_reverse"
  ParamKind kind;
  int layer;
  int direction;        // 0 forward, 1 reverse
  Shape shape;
  std::int64_t offset;  // elements from the start of the flat buffer
};

// The parameters of `desc` in state_dict order, with their offsets in the flat buffer.
std::vector<ParameterInfo> parameter_layout(const RNNDescriptor& desc);

class RNNWeights {
 public:
  RNNWeights() = default;
  // Zero-initialised parameters for `desc` (validated first).
  RNNWeights(const RNNDescriptor& desc, DType dtype, Device device = Device::cpu());
  // The parameters of `desc` in memory the caller owns (Tensor::borrow): `flat` is every
  // parameter in state_dict order, as flat() holds them, f32 or f64, on any device. The caller
  // keeps it alive while these weights (or work queued with them) are in use. Error
  // (invalid_argument) naming 'flat' when its element count or dtype does not fit.
  static RNNWeights borrow(const RNNDescriptor& desc, TensorView flat);

  const RNNDescriptor& descriptor() const { return desc_; }
  DType dtype() const { return flat_.dtype(); }
  Device device() const { return flat_.device(); }
  const std::vector<ParameterInfo>& parameters() const { return layout_; }
  std::int64_t numel() const { return flat_.numel(); }

  // By PyTorch name; throws Error(invalid_argument) naming an unknown parameter.
  TensorView get(const std::string& name);
  ConstTensorView get(const std::string& name) const;
  // By role; an absent parameter (a bias when !bias, weight_hr without projection) gives an
  // empty view.
  TensorView get(ParamKind kind, int layer, int direction);
  ConstTensorView get(ParamKind kind, int layer, int direction) const;

  // All parameters in one buffer.
  Tensor& flat() { return flat_; }
  const Tensor& flat() const { return flat_; }

  // PyTorch's default initialisation: every parameter uniform in [-1/sqrt(H), 1/sqrt(H)],
  // reproducible from `seed` on every platform.
  void init_uniform(std::uint64_t seed);
  void zero() { flat_.fill(0.0); }
  RNNWeights clone() const;
  // A copy on `device` (same descriptor and dtype); Error(unsupported) for a device this build
  // or machine does not have.
  RNNWeights to(Device device) const;

 private:
  const ParameterInfo* find(ParamKind kind, int layer, int direction) const;

  RNNDescriptor desc_;
  std::vector<ParameterInfo> layout_;
  Tensor flat_;
};

}  // namespace gpurnn
