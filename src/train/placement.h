#pragma once
// Tensors where a step needs them, sharing storage when they are already there (Tensor::to
// always copies): internal helpers of the models and checkpoints.

#include "gpurnn/tensor.h"

namespace gpurnn::train {

// `t` itself when it is on the host, else a host copy.
inline Tensor on_host(const Tensor& t) { return t.device().is_cpu() ? t : t.to(Device::cpu()); }
// `host` itself when `device` is the host, else a copy on `device`.
inline Tensor on_device(const Tensor& host, Device device) { return device.is_cpu() ? host : host.to(device); }
// `t` itself when it has `dtype`, else a converted copy.
inline Tensor in_dtype(const Tensor& t, DType dtype) { return t.dtype() == dtype ? t : t.to(dtype); }

}  // namespace gpurnn::train
