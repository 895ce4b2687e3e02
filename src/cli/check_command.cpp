// `gpurnn check`: every backend of this build, every cell kind, in f32, against the CPU path in
// f64 on random models with ragged lengths; forward outputs and all gradients.

#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "gpurnn/detail/counter_random.h"
#include "gpurnn/rnn.h"

namespace gpurnn::cli {
namespace {

struct Case {
  std::string label;
  RNNDescriptor desc;
};

std::vector<Case> check_cases() {
  auto make = [](CellKind cell, std::int64_t proj) {
    RNNDescriptor d;
    d.cell = cell;
    d.input_size = 7;
    d.hidden_size = 16;
    d.num_layers = 2;
    d.bidirectional = true;
    d.proj_size = proj;
    return d;
  };
  std::vector<Case> cases;
  for (CellKind cell : detail::kCellKinds) {
    cases.push_back({to_string(cell), make(cell, 0)});
    if (detail::cell_traits(cell).projection) cases.push_back({std::string(to_string(cell)) + "+proj", make(cell, 5)});
  }
  return cases;
}

Tensor random_tensor(Shape shape, std::uint64_t seed, std::uint64_t stream) {
  Tensor t = Tensor::empty(shape, DType::f64);
  double* p = t.data_as<double>();
  for (std::int64_t k = 0; k < t.numel(); ++k) {
    p[k] = 2.0 * detail::random_uniform(seed, stream, static_cast<std::uint64_t>(k)) - 1.0;
  }
  return t;
}

// ||a - b|| / ||b|| over all elements (a in any floating dtype, b in f64).
double relative_error(const Tensor& a, const Tensor& b) {
  const Tensor a64 = a.to(DType::f64);
  double diff = 0, norm = 0;
  for (std::int64_t k = 0; k < b.numel(); ++k) {
    const double d = a64.data_as<double>()[k] - b.data_as<double>()[k];
    diff += d * d;
    norm += b.data_as<double>()[k] * b.data_as<double>()[k];
  }
  return std::sqrt(diff) / std::max(std::sqrt(norm), 1e-300);
}

struct Errors {
  double forward = 0, data_grad = 0, weight_grad = 0;
};

Errors compare(const Case& c, const std::string& backend, std::uint64_t seed) {
  const std::int64_t T = 9, B = 4;
  RNN reference(c.desc, DType::f64, "cpu", seed);
  RNN candidate(c.desc, DType::f32, backend);
  const Device dev = candidate.backend().device();
  // The candidate's f32 inputs on its device; its results come back to the host to compare.
  const auto there = [&](const Tensor& t) { return t.defined() ? t.to(DType::f32).to(dev) : t; };
  const auto here = [](const Tensor& t) { return t.defined() ? t.to(Device::cpu()) : t; };
  candidate.weights().flat() = there(reference.weights().flat());

  const Tensor x = random_tensor({T, B, c.desc.input_size}, seed, 1);
  const std::int32_t lengths[4] = {9, 3, 1, 6};
  SequenceInputs in64;
  in64.lengths = Tensor::from_host<std::int32_t>({B}, lengths);
  in64.h0 = random_tensor({4, B, c.desc.state_size()}, seed, 2);
  if (c.desc.has_cell_state()) in64.c0 = random_tensor({4, B, c.desc.hidden_size}, seed, 3);
  SequenceInputs in32 = in64;  // lengths stay on the host
  in32.h0 = there(in64.h0);
  in32.c0 = there(in64.c0);

  const RNNOutput r = reference.forward_train(x, in64);
  const RNNOutput o = candidate.forward_train(there(x), in32);
  Errors e;
  e.forward = std::max(relative_error(here(o.y), r.y), relative_error(here(o.hn), r.hn));
  if (r.cn.defined()) e.forward = std::max(e.forward, relative_error(here(o.cn), r.cn));

  const Tensor dy = random_tensor(r.y.shape(), seed, 4);
  const Tensor dhn = random_tensor(r.hn.shape(), seed, 5);
  const RNNGradients gr = reference.backward(dy, dhn);
  const RNNGradients go = candidate.backward(there(dy), there(dhn));
  e.data_grad = std::max(relative_error(here(go.dx), gr.dx), relative_error(here(go.dh0), gr.dh0));
  if (gr.dc0.defined()) e.data_grad = std::max(e.data_grad, relative_error(here(go.dc0), gr.dc0));
  e.weight_grad = relative_error(here(go.dweights.flat()), gr.dweights.flat());
  return e;
}

struct BuiltBackend {
  std::string name;
  std::string unusable;  // why it cannot run on this machine; empty when it can
};

// The backends of this build, whether or not this machine can run them.
std::vector<BuiltBackend> built_backends() {
  std::vector<BuiltBackend> built = {{"cpu", ""}};
  const std::string no_device =
      cuda_device_count() > 0 ? "" : "no CUDA device (" + cuda_unavailable_reason() + ")";
  if (cuda_built()) built.push_back({"cuda", no_device});
  if (!backend_algorithms("cudnn").empty()) built.push_back({"cudnn", no_device});  // built with cuDNN
  if (virtual_device_count() > 0) built.push_back({"virtual", ""});  // asked for: GPURNN_VIRTUAL_DEVICES
  return built;
}

}  // namespace

int run_check(const CheckOptions& options) {
  std::vector<std::string> backends;
  std::vector<std::string> skipped;  // "cuda: skipped, no CUDA device (...)"
  std::string names;
  for (const BuiltBackend& b : built_backends()) {
    names += (names.empty() ? "" : ", ") + b.name;
    if (options.backend != "all" && options.backend != b.name) continue;
    if (b.unusable.empty()) {
      backends.push_back(b.name);
    } else if (options.backend == "all") {
      skipped.push_back(b.name + ": skipped, " + b.unusable);
    } else {
      std::cerr << "gpurnn check: backend '" << b.name << "' is built but cannot run here: " << b.unusable << "\n";
      return 2;
    }
  }
  if (backends.empty()) {
    std::cerr << "gpurnn check: backend '" << options.backend << "' is not in this build (it has: " << names
              << ")\n";
    return 2;
  }
  std::printf("gpurnn check: f32 backends against the f64 CPU path (T=9, B=4, ragged lengths,\n"
              "2 layers, bidirectional, I=7, H=16); relative error ||a-b||/||b||, limit %.1e\n\n",
              options.tolerance);
  std::printf("%-8s %-12s %12s %12s %12s  %s\n", "backend", "cell", "forward", "d(input)",
              "d(weights)", "result");
  int failures = 0;
  for (const std::string& backend : backends) {
    for (const Case& c : check_cases()) {
      const Errors e = compare(c, backend, options.seed);
      const bool ok = e.forward <= options.tolerance && e.data_grad <= options.tolerance &&
                      e.weight_grad <= options.tolerance;
      failures += ok ? 0 : 1;
      std::printf("%-8s %-12s %12.2e %12.2e %12.2e  %s\n", backend.c_str(), c.label.c_str(), e.forward,
                  e.data_grad, e.weight_grad, ok ? "ok" : "MISMATCH");
    }
  }
  if (!skipped.empty()) std::printf("\n");
  for (const std::string& line : skipped) std::printf("%s\n", line.c_str());
  std::printf("\n%s\n", failures != 0       ? "some backends disagree with the reference"
                        : skipped.empty() ? "all backends agree with the reference"
                                          : "all backends checked agree with the reference");
  return failures == 0 ? 0 : 1;
}

}  // namespace gpurnn::cli
