#include "test_support.h"

#include "core/half_arrays.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include "gpurnn/detail/counter_random.h"
#include "gpurnn/detail/dtype_dispatch.h"

namespace gpurnn::testing {
namespace {

ConstTensorView optional_view(const Tensor& t) { return t.defined() ? t.view() : ConstTensorView(); }

std::vector<double> flat_copy(ConstTensorView v) {
  std::vector<double> out(static_cast<std::size_t>(v.numel()));
  if (is_half(v.dtype())) {  // widened exactly
    std::vector<float> widened(out.size());
    detail::widen_half(v.dtype(), v.data(), widened.data(), v.numel());
    std::copy(widened.begin(), widened.end(), out.begin());
    return out;
  }
  detail::visit_floating(v.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = v.data_as<T>();
    for (std::size_t k = 0; k < out.size(); ++k) out[k] = static_cast<double>(p[k]);
  });
  return out;
}

// `t` on `device` (a copy when it is elsewhere); undefined stays undefined.
Tensor moved(const Tensor& t, Device device) {
  return !t.defined() || t.device() == device ? t : t.to(device);
}

}  // namespace

Tensor random_tensor(Shape shape, DType dtype, std::uint64_t seed, std::uint64_t stream,
                     double scale) {
  if (is_half(dtype)) return random_tensor(shape, DType::f32, seed, stream, scale).to(dtype);  // rounded draws
  Tensor t = Tensor::empty(shape, dtype);
  detail::visit_floating(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data_as<T>();
    for (std::int64_t k = 0; k < t.numel(); ++k) {
      const double u = detail::random_uniform(seed, stream, static_cast<std::uint64_t>(k));
      p[k] = static_cast<T>((2.0 * u - 1.0) * scale);
    }
  });
  return t;
}

Tensor numbered(Shape shape, DType dtype) {
  Tensor t = Tensor::empty(shape, dtype);
  auto* bytes = static_cast<std::uint8_t*>(t.data());
  for (std::size_t i = 0; i < t.bytes(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return t;
}

Tensor poisoned(Shape shape, DType dtype) {
  Tensor t = Tensor::empty(shape, dtype);
  if (is_floating(dtype)) {
    t.fill(std::numeric_limits<double>::quiet_NaN());
  } else {
    std::memset(t.data(), 0x5A, t.bytes());
  }
  return t;
}

Tensor poisoned_bytes(std::size_t bytes) {
  Tensor t = Tensor::empty({static_cast<std::int64_t>(bytes)}, DType::u8);
  std::memset(t.data(), 0xFF, t.bytes());  // all-ones bytes are NaN in f32 and f64
  return t;
}

std::vector<double> to_vector(const Tensor& t) { return flat_copy(t.view()); }

bool all_finite(const Tensor& t) {
  for (double v : to_vector(t)) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

std::vector<double> numeric_gradient(Tensor t, const std::function<double()>& loss, std::int64_t stride) {
  constexpr double kStep = 1e-6;
  std::vector<double> grad;
  double* p = t.data_as<double>();
  for (std::int64_t i = 0; i < t.numel(); i += stride) {
    const double saved = p[i];
    p[i] = saved + kStep;
    const double up = loss();
    p[i] = saved - kStep;
    const double down = loss();
    p[i] = saved;
    grad.push_back((up - down) / (2 * kStep));
  }
  return grad;
}

std::vector<double> strided_elements(const Tensor& t, std::int64_t stride) {
  std::vector<double> out;
  const double* p = t.data_as<double>();
  for (std::int64_t i = 0; i < t.numel(); i += stride) out.push_back(p[i]);
  return out;
}

double relative_error(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
  double diff = 0, norm = 0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    if (!std::isfinite(a[k]) || !std::isfinite(b[k])) return std::numeric_limits<double>::infinity();
    diff += (a[k] - b[k]) * (a[k] - b[k]);
    norm += b[k] * b[k];
  }
  if (norm == 0) return std::sqrt(diff);
  return std::sqrt(diff / norm);
}

double relative_error(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return std::numeric_limits<double>::infinity();
  return relative_error(to_vector(a), to_vector(b));
}

gpurnn_ref::Config reference_config(const RNNDescriptor& d) {
  static_assert(static_cast<int>(CellKind::gru) == static_cast<int>(gpurnn_ref::Cell::gru));
  return {static_cast<gpurnn_ref::Cell>(d.cell), static_cast<int>(d.input_size),
          static_cast<int>(d.hidden_size), d.num_layers, d.bidirectional, d.bias,
          static_cast<int>(d.proj_size)};
}

gpurnn_ref::Params reference_params(const RNNWeights& w) {
  const RNNDescriptor& d = w.descriptor();
  gpurnn_ref::Params params;
  for (int l = 0; l < d.num_layers; ++l) {
    for (int dir = 0; dir < d.num_directions(); ++dir) {
      auto get = [&](ParamKind k) {
        ConstTensorView v = w.get(k, l, dir);
        return v.empty() ? std::vector<double>() : flat_copy(v);
      };
      params.push_back({get(ParamKind::weight_ih), get(ParamKind::weight_hh), get(ParamKind::bias_ih),
                        get(ParamKind::bias_hh), get(ParamKind::weight_hr)});
    }
  }
  return params;
}

// Runs on the backend's device: weights and inputs are already there; buffers are allocated
// there, poisoned.
FullRun run_on_backend(Backend& backend, const RNNWeights& weights, const FullRunInputs& in) {
  const Device dev = backend.device();
  const RNNDescriptor& d = weights.descriptor();
  const DType dt = weights.dtype();
  const SequenceShape shape{in.batch_first ? in.x.dim(1) : in.x.dim(0),
                            in.batch_first ? in.x.dim(0) : in.x.dim(1), in.batch_first};
  const std::int64_t states = static_cast<std::int64_t>(d.num_layers) * d.num_directions();
  const Shape y_shape = in.batch_first ? Shape{shape.batch, shape.seq_len, d.output_size()}
                                       : Shape{shape.seq_len, shape.batch, d.output_size()};
  FullRun r;
  r.y = moved(poisoned(y_shape, dt), dev);
  r.hn = moved(poisoned({states, shape.batch, d.state_size()}, dt), dev);
  if (d.has_cell_state()) r.cn = moved(poisoned({states, shape.batch, d.hidden_size}, dt), dev);
  Tensor workspace = moved(poisoned_bytes(backend.workspace_size(d, shape, dt, in.mode)), dev);
  Tensor reserve;
  if (in.mode == ForwardMode::training) reserve = moved(poisoned_bytes(backend.reserve_size(d, shape, dt)), dev);

  ForwardArgs f;
  f.mode = in.mode;
  f.batch_first = in.batch_first;
  f.x = in.x.view();
  f.lengths = optional_view(in.lengths);
  f.h0 = optional_view(in.h0);
  f.c0 = optional_view(in.c0);
  f.y = r.y.view();
  f.hn = r.hn.view();
  f.cn = r.cn.defined() ? r.cn.view() : TensorView();
  f.workspace = workspace.view();
  f.reserve = reserve.defined() ? reserve.view() : TensorView();
  f.dropout_seed = in.dropout_seed;
  // Each call on the prepared weights when given, else on the weights.
  const auto on_weights = [&](const auto& call) {
    if (in.prepared != nullptr) {
      call(*in.prepared);
    } else {
      call(weights);
    }
  };
  on_weights([&](const auto& w) { backend.forward(w, f); });
  if (in.mode == ForwardMode::inference) return r;

  r.dx = moved(poisoned(in.x.shape(), dt), dev);
  r.dh0 = moved(poisoned(r.hn.shape(), dt), dev);
  if (d.has_cell_state()) r.dc0 = moved(poisoned(r.cn.shape(), dt), dev);
  const DType grad_dt = is_half(dt) ? DType::f32 : dt;  // half weights have f32 gradients
  r.dweights = RNNWeights(d, grad_dt, dev);
  r.dweights.flat() = moved(poisoned({weights.numel()}, grad_dt), dev);
  Tensor bwd_workspace = moved(poisoned_bytes(backend.workspace_size(d, shape, dt, ForwardMode::training)), dev);

  BackwardDataArgs bd;
  bd.batch_first = in.batch_first;
  bd.lengths = optional_view(in.lengths);
  bd.dy = in.dy.view();
  bd.dhn = optional_view(in.dhn);
  bd.dcn = optional_view(in.dcn);
  bd.dx = r.dx.view();
  bd.dh0 = r.dh0.view();
  bd.dc0 = r.dc0.defined() ? r.dc0.view() : TensorView();
  bd.workspace = bwd_workspace.view();
  bd.reserve = reserve.view();
  on_weights([&](const auto& w) { backend.backward_data(w, bd); });

  BackwardWeightsArgs bw;
  bw.batch_first = in.batch_first;
  bw.x = in.x.view();
  Tensor bw_workspace = moved(poisoned_bytes(bwd_workspace.bytes()), dev);
  bw.workspace = bw_workspace.view();
  bw.reserve = reserve.view();
  bw.grad_mode = GradMode::overwrite;
  on_weights([&](const auto& w) { backend.backward_weights(w, bw, r.dweights); });
  return r;
}

void expect_error(const std::function<void()>& fn, ErrorCode code,
                  std::initializer_list<std::string> words) {
  try {
    fn();
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_STREQ(to_string(e.code()), to_string(code)) << "message: " << message;
    for (const std::string& w : words) {
      EXPECT_NE(message.find(w), std::string::npos) << "message \"" << message << "\" lacks \"" << w << "\"";
    }
    return;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw a non-gpurnn exception: " << e.what();
    return;
  } catch (...) {
    ADD_FAILURE() << "threw something that is not a std::exception";
    return;
  }
  ADD_FAILURE() << "no gpurnn::Error was thrown";
}

ScratchDir::ScratchDir() {
  std::string pattern = ::testing::TempDir() + "gpurnn_test_XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

ScratchDir::~ScratchDir() { std::filesystem::remove_all(path_); }

std::vector<std::string> ScratchDir::entries() const {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(path_)) names.push_back(e.path().filename());
  return names;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

CommandResult run_command(const std::string& command) {
  const ScratchDir dir;
  const std::string log = dir.file("command.log");
  const int status = std::system((command + " > " + log + " 2>&1").c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_bytes(log)};
}

FullRun full_run(Backend& backend, const RNNWeights& weights, const FullRunInputs& in) {
  const Device dev = backend.device();
  if (dev.is_cpu()) return run_on_backend(backend, weights, in);
  // Weights and inputs to the device (lengths stay on the host), results back.
  const RNNWeights device_weights = weights.to(dev);
  FullRunInputs device_in = in;
  for (Tensor* t : {&device_in.x, &device_in.h0, &device_in.c0, &device_in.dy, &device_in.dhn, &device_in.dcn}) {
    *t = moved(*t, dev);
  }
  FullRun r = run_on_backend(backend, device_weights, device_in);
  for (Tensor* t : {&r.y, &r.hn, &r.cn, &r.dx, &r.dh0, &r.dc0}) *t = moved(*t, Device::cpu());
  if (r.dweights.flat().defined()) r.dweights = r.dweights.to(Device::cpu());
  return r;
}

std::string case_name(const RNNDescriptor& d) {
  std::string s = std::string(to_string(d.cell)) + "_I" + std::to_string(d.input_size) + "_H" +
                  std::to_string(d.hidden_size) + "_L" + std::to_string(d.num_layers);
  if (d.bidirectional) s += "_bi";
  if (d.proj_size > 0) s += "_proj" + std::to_string(d.proj_size);
  if (!d.bias) s += "_nobias";
  return s;
}

}  // namespace gpurnn::testing
