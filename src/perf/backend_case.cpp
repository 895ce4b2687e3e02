#include "perf/backend_case.h"

#include <cmath>
#include <random>
#include <utility>

namespace gpurnn::perf {
namespace {

// Uniform in [-1, 1] on the host, drawn in f32 (the same numbers for every dtype) and rounded to
// `dtype`, then moved to `device`.
Tensor random_tensor(Shape shape, std::mt19937_64& rng, DType dtype, Device device) {
  Tensor t = Tensor::empty(shape, DType::f32);
  std::uniform_real_distribution<float> dist(-1.0F, 1.0F);
  float* p = t.data_as<float>();
  for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = dist(rng);
  if (dtype != DType::f32) t = t.to(dtype);
  return device.is_cpu() ? t : t.to(device);
}

// Raw bytes for workspace and reserve (at least one byte, so the view is never null).
Tensor byte_buffer(std::size_t bytes, Device device) {
  return Tensor::empty({static_cast<std::int64_t>(bytes > 0 ? bytes : 1)}, DType::u8, device);
}

std::string first_non_finite(const char* what, const Tensor& t) {
  if (!t.defined() || t.numel() == 0) return {};
  Tensor host = t.device().is_cpu() ? t : t.to(Device::cpu());
  if (host.dtype() != DType::f32) host = host.to(DType::f32);  // bf16/f16 widen exactly (inf and NaN stay)
  const float* p = host.data_as<float>();
  for (std::int64_t i = 0; i < host.numel(); ++i) {
    if (!std::isfinite(p[i])) {
      return std::string("non-finite value in ") + what + " at element " + std::to_string(i);
    }
  }
  return {};
}

}  // namespace

void BackendCase::run() {
  // The same calls on the weights or on the prepared weights (Backend's overloads).
  const auto calls = [&](const auto& w) {
    backend->forward(w, fwd);
    if (spec.mode == Mode::fwd_bwd) {
      backend->backward_data(w, bwd_data);
      backend->backward_weights(w, bwd_weights, grads);
    }
  };
  if (prepared != nullptr) {
    calls(*prepared);
  } else {
    calls(weights);
  }
}

void BackendCase::synchronize() const {
  if (!hn.device().is_cpu()) (void)hn.to(Device::cpu());
}

std::string BackendCase::check_finite() const {
  for (const auto& [what, t] : {std::pair<const char*, const Tensor*>{"y", &y}, {"hn", &hn},
                                {"cn", &cn}, {"dx", &dx}, {"dh0", &dh0}, {"dc0", &dc0}}) {
    if (std::string e = first_non_finite(what, *t); !e.empty()) return e;
  }
  if (spec.mode == Mode::fwd_bwd) return first_non_finite("weight gradients", grads.flat());
  return {};
}

std::unique_ptr<BackendCase> make_backend_case(const BenchCase& c, int num_threads, void* stream) {
  auto f = std::make_unique<BackendCase>();
  f->spec = c;
  const RNNDescriptor desc = c.descriptor();
  BackendOptions options;
  options.num_threads = num_threads;
  f->backend = make_backend(c.backend, options);
  const DType dtype = c.dtype;
  // The weight gradients of a half call are f32 (Backend::backward_weights).
  const DType grads_dtype = is_half(dtype) ? DType::f32 : dtype;
  if (auto why = f->backend->unsupported_reason(desc, dtype)) {
    f->unsupported = *why;
    return f;
  }
  const Device device = f->backend->device();

  // Drawn in f32 (the same numbers for every dtype), then rounded to the case's dtype.
  RNNWeights host_weights(desc, DType::f32);
  host_weights.init_uniform(kWeightSeed);
  if (dtype != DType::f32) {
    RNNWeights rounded(desc, dtype);
    copy_into(host_weights.flat().to(dtype), rounded.flat());
    host_weights = std::move(rounded);
  }
  f->weights = device.is_cpu() ? std::move(host_weights) : host_weights.to(device);
  if (c.prepared) f->prepared = f->backend->prepare(f->weights);
  std::mt19937_64 rng(kInputSeed);
  const std::int64_t T = c.steps, B = c.batch;
  const std::int64_t states = static_cast<std::int64_t>(desc.num_layers) * desc.num_directions();
  f->x = random_tensor({T, B, desc.input_size}, rng, dtype, device);
  f->y = Tensor::empty({T, B, desc.output_size()}, dtype, device);
  f->hn = Tensor::empty({states, B, desc.state_size()}, dtype, device);
  if (desc.has_cell_state()) f->cn = Tensor::empty({states, B, desc.hidden_size}, dtype, device);

  const ForwardMode fmode = c.mode == Mode::infer ? ForwardMode::inference : ForwardMode::training;
  const SequenceShape shape{T, B, false};
  f->workspace = byte_buffer(f->backend->workspace_size(desc, shape, dtype, fmode), device);
  if (fmode == ForwardMode::training) {
    f->reserve = byte_buffer(f->backend->reserve_size(desc, shape, dtype), device);
  }

  f->fwd.mode = fmode;
  f->fwd.x = f->x;
  f->fwd.y = f->y;
  f->fwd.hn = f->hn;
  if (f->cn.defined()) f->fwd.cn = f->cn;
  f->fwd.workspace = f->workspace;
  if (f->reserve.defined()) f->fwd.reserve = f->reserve;
  f->fwd.stream = stream;

  if (c.mode == Mode::fwd_bwd) {
    f->grads = RNNWeights(desc, grads_dtype, device);
    f->dy = random_tensor(f->y.shape(), rng, dtype, device);
    f->dx = Tensor::empty(f->x.shape(), dtype, device);
    f->dh0 = Tensor::empty(f->hn.shape(), dtype, device);
    if (f->cn.defined()) f->dc0 = Tensor::empty(f->cn.shape(), dtype, device);
    f->bwd_data.dy = f->dy;
    f->bwd_data.dx = f->dx;
    f->bwd_data.dh0 = f->dh0;
    if (f->dc0.defined()) f->bwd_data.dc0 = f->dc0;
    f->bwd_data.workspace = f->workspace;
    f->bwd_data.reserve = f->reserve;
    f->bwd_weights.x = f->x;
    f->bwd_weights.workspace = f->workspace;
    f->bwd_weights.reserve = f->reserve;
    f->bwd_weights.grad_mode = GradMode::overwrite;
    f->bwd_data.stream = stream;
    f->bwd_weights.stream = stream;
  }
  return f;
}

}  // namespace gpurnn::perf
