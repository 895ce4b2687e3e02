#include "gpurnn/rnn_weights.h"

#include <cmath>

#include "gpurnn/detail/counter_random.h"

namespace gpurnn {
namespace {

const char* kind_prefix(ParamKind kind) {
  switch (kind) {
    case ParamKind::weight_ih: return "weight_ih";
    case ParamKind::weight_hh: return "weight_hh";
    case ParamKind::bias_ih: return "bias_ih";
    case ParamKind::bias_hh: return "bias_hh";
    case ParamKind::weight_hr: return "weight_hr";
  }
  return "unknown";
}

template <class T>
void fill_uniform(T* data, std::int64_t n, std::uint64_t seed, std::uint64_t stream, double bound) {
  for (std::int64_t k = 0; k < n; ++k) {
    const double u = detail::random_uniform(seed, stream, static_cast<std::uint64_t>(k));
    data[k] = static_cast<T>((2.0 * u - 1.0) * bound);
  }
}

}  // namespace

std::vector<ParameterInfo> parameter_layout(const RNNDescriptor& desc) {
  desc.validate();
  const std::int64_t gh = desc.gates() * desc.hidden_size;
  std::vector<ParameterInfo> layout;
  std::int64_t offset = 0;
  auto add = [&](ParamKind kind, int layer, int dir, Shape shape) {
    std::string name = std::string(kind_prefix(kind)) + "_l" + std::to_string(layer);
    if (dir == 1) name += "_reverse";
    layout.push_back({name, kind, layer, dir, shape, offset});
    offset += shape.numel();
  };
  for (int layer = 0; layer < desc.num_layers; ++layer) {
    for (int dir = 0; dir < desc.num_directions(); ++dir) {
      add(ParamKind::weight_ih, layer, dir, {gh, desc.layer_input_size(layer)});
      add(ParamKind::weight_hh, layer, dir, {gh, desc.state_size()});
      if (desc.bias) {
        add(ParamKind::bias_ih, layer, dir, {gh});
        add(ParamKind::bias_hh, layer, dir, {gh});
      }
      if (desc.proj_size > 0) add(ParamKind::weight_hr, layer, dir, {desc.proj_size, desc.hidden_size});
    }
  }
  return layout;
}

RNNWeights::RNNWeights(const RNNDescriptor& desc, DType dtype, Device device)
    : desc_(desc), layout_(parameter_layout(desc)) {
  check_argument(is_floating(dtype), "RNNWeights", "dtype",
                 [&] { return std::string("must be f32, f64, bf16 or f16, got ") + to_string(dtype); });
  const ParameterInfo& last = layout_.back();
  flat_ = Tensor::zeros({last.offset + last.shape.numel()}, dtype, device);
}

const ParameterInfo* RNNWeights::find(ParamKind kind, int layer, int direction) const {
  for (const ParameterInfo& p : layout_) {
    if (p.kind == kind && p.layer == layer && p.direction == direction) return &p;
  }
  return nullptr;
}

TensorView RNNWeights::get(ParamKind kind, int layer, int direction) {
  const ParameterInfo* p = find(kind, layer, direction);
  if (p == nullptr) return {};
  auto* base = static_cast<unsigned char*>(flat_.data());
  return TensorView(base + p->offset * static_cast<std::int64_t>(dtype_size(dtype())), p->shape,
                    dtype(), device());
}

ConstTensorView RNNWeights::get(ParamKind kind, int layer, int direction) const {
  return const_cast<RNNWeights*>(this)->get(kind, layer, direction);
}

TensorView RNNWeights::get(const std::string& name) {
  for (const ParameterInfo& p : layout_) {
    if (p.name == name) return get(p.kind, p.layer, p.direction);
  }
  throw Error(ErrorCode::invalid_argument,
              "RNNWeights::get: argument 'name' is '" + name + "', not a parameter of " +
                  to_string(desc_));
}

ConstTensorView RNNWeights::get(const std::string& name) const {
  return const_cast<RNNWeights*>(this)->get(name);
}

void RNNWeights::init_uniform(std::uint64_t seed) {
  if (!device().is_cpu() || is_half(dtype())) {
    // Drawn on the host (the same values on every device), then copied; half weights are the f32
    // draw rounded to nearest.
    RNNWeights host(desc_, is_half(dtype()) ? DType::f32 : dtype());
    host.init_uniform(seed);
    copy_into(host.flat().dtype() == dtype() ? host.flat() : host.flat().to(dtype()), flat_);
    return;
  }
  const double bound = 1.0 / std::sqrt(static_cast<double>(desc_.hidden_size));
  for (std::size_t k = 0; k < layout_.size(); ++k) {
    TensorView v = get(layout_[k].kind, layout_[k].layer, layout_[k].direction);
    if (dtype() == DType::f32) {
      fill_uniform(v.data_as<float>(), v.numel(), seed, k, bound);
    } else {
      fill_uniform(v.data_as<double>(), v.numel(), seed, k, bound);
    }
  }
}

RNNWeights RNNWeights::borrow(const RNNDescriptor& desc, TensorView flat) {
  check_argument(is_floating(flat.dtype()), "RNNWeights::borrow", "flat",
                 [&] { return std::string("must be f32, f64, bf16 or f16, got ") + to_string(flat.dtype()); });
  RNNWeights w;
  w.desc_ = desc;
  w.layout_ = parameter_layout(desc);
  const ParameterInfo& last = w.layout_.back();
  const std::int64_t needed = last.offset + last.shape.numel();
  check_argument(flat.numel() == needed, "RNNWeights::borrow", "flat", [&] {
    return "has " + std::to_string(flat.numel()) + " elements, expected " + std::to_string(needed) + " for " +
           to_string(desc);
  });
  check_argument(flat.data() != nullptr, "RNNWeights::borrow", "flat", "is empty");
  w.flat_ = Tensor::borrow(flat);
  return w;
}

RNNWeights RNNWeights::clone() const {
  RNNWeights w = *this;
  w.flat_ = flat_.clone();
  return w;
}

RNNWeights RNNWeights::to(Device device) const {
  RNNWeights w = *this;
  w.flat_ = flat_.to(device);
  return w;
}

}  // namespace gpurnn
