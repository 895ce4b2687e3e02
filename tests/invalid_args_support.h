#pragma once
// Shared by the invalid-argument suites: every invalid argument gets the library's error
// (gpurnn::Error, code invalid_argument, or unsupported where documented) with a message that
// names the argument in quotes and, where it applies, the expected shape or value. Each test
// starts from valid arguments (Problem) and breaks one.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>

#include "gpurnn/gpurnn.h"
#include "test_support.h"

namespace gpurnn::invalid_args {

using Parts = std::initializer_list<std::string>;

using testing::expect_error;

inline void expect_invalid(const std::function<void()>& fn, Parts parts) {
  testing::expect_error(fn, ErrorCode::invalid_argument, parts);
}

constexpr std::int64_t kT = 5, kB = 3, kI = 7, kH = 6;

// LSTM, 2 layers, bidirectional, projected: x [5, 3, 7], y [5, 3, 4], h [4, 3, 2], c [4, 3, 6].
inline RNNDescriptor lstm_desc() {
  RNNDescriptor d;
  d.cell = CellKind::lstm;
  d.input_size = kI;
  d.hidden_size = kH;
  d.num_layers = 2;
  d.bidirectional = true;
  d.proj_size = 2;
  return d;
}

// GRU, 1 layer: x [5, 3, 7], y [5, 3, 6], h [1, 3, 6].
inline RNNDescriptor gru_desc() {
  RNNDescriptor d;
  d.cell = CellKind::gru;
  d.input_size = kI;
  d.hidden_size = kH;
  return d;
}

inline Tensor f32(Shape s) { return testing::random_tensor(s, DType::f32, 7, 1); }
inline Tensor bytes(std::size_t n) { return Tensor::zeros({static_cast<std::int64_t>(n)}, DType::u8); }
// The first n bytes of `t`.
inline TensorView prefix(Tensor& t, std::size_t n) {
  return TensorView(t.data(), {static_cast<std::int64_t>(n)}, DType::u8);
}

// Valid buffers for one forward + backward; a valid training forward has already run.
struct Problem {
  RNNDescriptor desc;
  bool batch_first;
  std::unique_ptr<Backend> backend = make_backend("cpu");
  RNNWeights w, grads;
  Tensor x, lengths, h0, c0, y, hn, cn, dy, dhn, dcn, dx, dh0, dc0, workspace, reserve;
  std::size_t ws_bytes = 0, reserve_bytes = 0;

  explicit Problem(const RNNDescriptor& d, bool bf = false) : desc(d), batch_first(bf) {
    w = RNNWeights(d, DType::f32);
    w.init_uniform(3);
    grads = RNNWeights(d, DType::f32);
    const std::int32_t lens[kB] = {5, 2, 4};
    lengths = Tensor::from_host<std::int32_t>({kB}, lens);
    for (Tensor* t : {&x, &dx}) *t = f32(seq(d.input_size));
    for (Tensor* t : {&y, &dy}) *t = f32(seq(d.output_size()));
    for (Tensor* t : {&h0, &hn, &dhn, &dh0}) *t = f32(state(d.state_size()));
    if (d.has_cell_state()) {
      for (Tensor* t : {&c0, &cn, &dcn, &dc0}) *t = f32(state(d.hidden_size));
    }
    const SequenceShape s{kT, kB, bf};
    ws_bytes = backend->workspace_size(d, s, DType::f32, ForwardMode::training);
    reserve_bytes = backend->reserve_size(d, s, DType::f32);
    // Large enough for inference too (whose layout differs from training's).
    workspace = bytes(
        std::max(ws_bytes, backend->workspace_size(d, s, DType::f32, ForwardMode::inference)));
    reserve = bytes(reserve_bytes);
    backend->forward(w, fwd());
  }

  Shape seq(std::int64_t f) const { return batch_first ? Shape{kB, kT, f} : Shape{kT, kB, f}; }
  Shape state(std::int64_t units) const {
    return {static_cast<std::int64_t>(desc.num_layers) * desc.num_directions(), kB, units};
  }

  ForwardArgs fwd(ForwardMode mode = ForwardMode::training) {
    ForwardArgs a;
    a.mode = mode;
    a.batch_first = batch_first;
    a.x = x, a.lengths = lengths, a.h0 = h0, a.c0 = c0;
    a.y = y, a.hn = hn, a.cn = cn;
    a.workspace = workspace, a.reserve = reserve;
    return a;
  }
  BackwardDataArgs bwd() {
    BackwardDataArgs a;
    a.batch_first = batch_first;
    a.lengths = lengths, a.dy = dy, a.dhn = dhn, a.dcn = dcn;
    a.dx = dx, a.dh0 = dh0, a.dc0 = dc0;
    a.workspace = workspace, a.reserve = reserve;
    return a;
  }
  BackwardWeightsArgs bww() {
    BackwardWeightsArgs a;
    a.batch_first = batch_first;
    a.x = x, a.workspace = workspace, a.reserve = reserve;
    return a;
  }

  template <class Args>
  Args args() {
    if constexpr (std::is_same_v<Args, ForwardArgs>) return fwd();
    if constexpr (std::is_same_v<Args, BackwardDataArgs>) return bwd();
    if constexpr (std::is_same_v<Args, BackwardWeightsArgs>) return bww();
  }

  std::function<void()> run(ForwardArgs a) {
    return [this, a] { backend->forward(w, a); };
  }
  std::function<void()> run(BackwardDataArgs a) {
    return [this, a] { backend->backward_data(w, a); };
  }
  std::function<void()> run(BackwardWeightsArgs a, RNNWeights* g = nullptr) {
    return [this, a, g] { backend->backward_weights(w, a, g != nullptr ? *g : grads); };
  }
};

// Valid arguments of a fresh problem with one field replaced by `t` must be rejected with `parts`.
template <class Args, class View>
void replaced(const RNNDescriptor& d, View Args::*field, Tensor t, Parts parts, bool bf = false) {
  Problem p(d, bf);
  Args a = p.args<Args>();
  a.*field = t;
  expect_invalid(p.run(a), parts);
}
// The same with the field set to a view of the problem's own buffer `buffer`, made by `make`.
template <class Args, class View>
void rebound(const RNNDescriptor& d, View Args::*field, Tensor Problem::*buffer,
             View (*make)(Problem&, Tensor&), Parts parts) {
  Problem p(d);
  Args a = p.args<Args>();
  a.*field = make(p, p.*buffer);
  expect_invalid(p.run(a), parts);
}
template <class View>
View on_cuda(Problem&, Tensor& t) {
  return View(t.data(), t.shape(), t.dtype(), Device::cuda(1));
}
inline TensorView one_byte_short(Problem& p, Tensor& t) {
  return prefix(t, &t == &p.reserve ? p.reserve_bytes - 1 : p.ws_bytes - 1);
}
inline Tensor f64(Shape s) { return testing::random_tensor(s, DType::f64, 7, 1); }
inline std::string at_least(std::size_t n) { return "at least " + std::to_string(n); }


}  // namespace gpurnn::invalid_args
