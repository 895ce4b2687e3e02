#pragma once
// The layers of a sequence model besides the RNN stack: Linear, Embedding, Dropout. Each keeps
// its parameters and their gradients as tensors on one device and runs on a TrainOps of that
// device. Backward calls add (+=) into the gradients; Trainer zeroes them before each step.

#include <cstdint>
#include <string>
#include <vector>

#include "gpurnn/train/ops.h"

namespace gpurnn {
class RNNWeights;
}

namespace gpurnn::train {

// A trainable tensor and its gradient (same shape, dtype and device). Both share storage with
// the layer that owns them (Tensor copies share storage), so optimizers update layers in place.
struct Parameter {
  std::string name;  // e.g. "output.weight"; unique within a model; the checkpoint key
  Tensor value;
  Tensor grad;
  // An RNN's flat buffer: its layout, whose named pieces checkpoints store as
  // "<name>.<PyTorch name>" (e.g. "rnn.weight_ih_l0"); null for a plain tensor.
  const RNNWeights* rnn_layout = nullptr;
};

// A parameter tensor of `shape` drawn uniformly in [-bound, bound] on the host from `seed` (in
// row-major order, in double), converted to `dtype` and moved to `device`.
Tensor uniform_parameter(Shape shape, double bound, DType dtype, Device device, std::uint64_t seed);

// y = x · W^T + b, with W [out, in] and b [out] initialised as PyTorch's nn.Linear does
// (uniform in ±1/sqrt(in)), drawn on the host from `seed`.
class Linear {
 public:
  Linear() = default;
  Linear(std::int64_t in_features, std::int64_t out_features, bool bias, DType dtype, Device device,
         std::uint64_t seed);

  std::int64_t in_features() const { return weight_.dim(1); }
  std::int64_t out_features() const { return weight_.dim(0); }

  // x [N, in] -> y [N, out] (new tensor on the device).
  Tensor forward(TrainOps& ops, const ConstTensorView& x) const;
  // Adds the gradients of W and b for (x, dy) and returns dx [N, in] (undefined when !want_dx).
  Tensor backward(TrainOps& ops, const ConstTensorView& x, const ConstTensorView& dy, bool want_dx);

  // "<prefix>weight", "<prefix>bias" (when it has a bias).
  std::vector<Parameter> parameters(const std::string& prefix) const;

 private:
  Tensor weight_, bias_, weight_grad_, bias_grad_;
};

// y[n] = table[ids[n]], table [vocab, dim] initialised N(0, 1) as PyTorch's nn.Embedding,
// drawn on the host from `seed`.
class Embedding {
 public:
  Embedding() = default;
  Embedding(std::int64_t vocab, std::int64_t dim, DType dtype, Device device, std::uint64_t seed);

  std::int64_t vocab() const { return table_.dim(0); }
  std::int64_t dim() const { return table_.dim(1); }

  // ids i32 [N] on the device -> [N, dim].
  Tensor forward(TrainOps& ops, const ConstTensorView& ids) const;
  void backward(TrainOps& ops, const ConstTensorView& ids, const ConstTensorView& dy);

  std::vector<Parameter> parameters(const std::string& prefix) const;  // "<prefix>weight"

 private:
  Tensor table_, table_grad_;
};

// Inverted dropout with a counter-based mask: the mask of a call is a function of
// (seed, stream_id, element index), so backward recomputes it instead of storing it.
class Dropout {
 public:
  explicit Dropout(double p = 0.0);  // p in [0, 1); Error(invalid_argument) naming 'p' otherwise
  double p() const { return p_; }
  // Training: a new tensor with the mask applied; p == 0 returns x itself (shared storage).
  Tensor forward(TrainOps& ops, const Tensor& x, std::uint64_t seed, std::uint64_t stream_id) const;
  // In place on dy (p == 0: untouched); returns dy.
  Tensor backward(TrainOps& ops, Tensor dy, std::uint64_t seed, std::uint64_t stream_id) const;

 private:
  double p_;
};

}  // namespace gpurnn::train
