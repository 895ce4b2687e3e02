// oneDNN's RNN primitives (LSTM, lbr_gru, vanilla_rnn with tanh) as the CPU rival, timed on
// the cpu backend's cases under the backend name "onednn" (f32) and "onednn_bf16" (bf16).
//
// Before a case is timed, oneDNN runs once on the inputs and weights of the cpu backend's
// benchmark (converted from PyTorch's layout) and its outputs are compared with the cpu
// backend's: y, hn, cn, and for fwd_bwd dx, dh0, dc0 and every weight gradient. A relative
// error above kTolerance (bf16: kToleranceBf16) fails the case, so a row only exists when
// oneDNN computed the same thing as gpurnn.
//
// Layout conversion. PyTorch's weight_ih is [G*H, I] with gate rows LSTM i,f,g,o / GRU r,z,n;
// oneDNN's weights are ldigo [L=1, D=1, I, G, H]. oneDNN's LSTM gates are i,f,c,o (PyTorch's
// order); its lbr_gru gates are u,r,o with u = PyTorch's z, and lbr_gru is the GRU whose
// candidate is tanh(W_o x + b_o + r ⊙ (U_o h + b_u')), PyTorch's n. Biases: oneDNN has one
// bias per gate (b_ih + b_hh), plus for lbr_gru a fourth row b_u' = b_hn.
//
// Weights are given to the primitive in the format it picks (format_tag::any), reordered once
// outside the timed loop; oneDNN's OpenMP threads are set to --threads (0: its default).
//
// bf16 cases (BenchCase::dtype, rows "onednn_bf16"): oneDNN's bf16 configuration, on the cpu
// backend's bf16 inputs and weights: src_layer, src_iter, weights, dst_layer and dst_iter bf16,
// the bias f32 (oneDNN's only choice with bf16 data; b_ih + b_hh summed in f32 from the bf16
// values), the LSTM cell state src_iter_c/dst_iter_c f32 (as the cpu backend's rule keeps c in
// f32 inside; oneDNN 2.6 allows only f32 there). Backward: oneDNN 2.6 requires every diff_* tensor
// to be f32, even for bf16 data (rnn.cpp's check_data_type_consistency_bwd: "We require diffs to
// be f32, even for bf16"), so dy goes in as the bf16 values widened and dx, dh0, dc0 come out f32
// (the cpu backend's are bf16); the weight and bias gradients are f32 on both sides. A oneDNN
// that takes bf16 diff_src/diff_dst (a later version) gets them: bf16 is tried first and the
// row's label says which ("diff=bf16" or "diff=f32"). Where oneDNN has no bf16 RNN for this CPU
// the row skips with oneDNN's error.

#include <dnnl.hpp>
#include <omp.h>

#include <dnnl_debug.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench_support.h"

namespace gpurnn_bench {
namespace {

using dnnl::memory;
using gpurnn::CellKind;
using gpurnn::ParamKind;
using gpurnn::Tensor;
using Tag = memory::format_tag;
using Dims = memory::dims;

// The largest relative error ||a - b|| / ||b|| a case may show against the cpu backend.
// f32: both compute the same f32 network; their sums differ in order only.
constexpr double kTolerance = 1e-4;
// bf16: both compute in f32 from the same bf16 inputs and weights, but each rounds h to bf16 at
// every step (relative error up to 2^-8 = 3.9e-3) from f32 sums taken in its own order, so now and
// then a value rounds to the neighbouring bf16 on one side only, and that difference feeds every
// later step (and each backward works from its own saved forward values); and they round
// different things: the cpu backend's cn, dx, dh0 and dc0 are bf16 (one rounding each), oneDNN's
// f32. So the two agree to about one bf16 rounding, not to f32's. Measured on the 22
// LSTM/GRU infer/fwd_bwd cases of bench/cpu_bf16.sh (oneDNN 2.6.3, an AVX-512 CPU with
// avx512_bf16): at most 1.9e-3 for infer (LSTM's cn, which the cpu backend rounds to bf16; y and
// hn about 2e-4) and 3.9e-3 for fwd_bwd (dx, dh0, dc0, the weight gradients). Each row shows its
// largest error as the counter check_rel_err.
constexpr double kToleranceBf16 = 3e-2;

// oneDNN's gate g is PyTorch's gate pytorch_gate_of(cell)[g].
std::vector<int> pytorch_gate_of(CellKind cell) {
  switch (cell) {
    case CellKind::lstm: return {0, 1, 2, 3};
    case CellKind::gru: return {1, 0, 2};  // u = z, r, o = n
    default: return {0};
  }
}

// PyTorch's [G*H, K] weight (or its gradient) as oneDNN's ldigo [1, 1, K, G, H].
std::vector<float> to_ldigo(const float* w, CellKind cell, std::int64_t k_size, std::int64_t h) {
  const std::vector<int> gate_of = pytorch_gate_of(cell);
  const std::int64_t gates = static_cast<std::int64_t>(gate_of.size());
  std::vector<float> out(static_cast<std::size_t>(k_size * gates * h));
  for (std::int64_t k = 0; k < k_size; ++k) {
    for (std::int64_t g = 0; g < gates; ++g) {
      for (std::int64_t o = 0; o < h; ++o) {
        out[static_cast<std::size_t>((k * gates + g) * h + o)] = w[(gate_of[g] * h + o) * k_size + k];
      }
    }
  }
  return out;
}

// oneDNN's bias ldgo [1, 1, G', H] from PyTorch's b_ih and b_hh: b_ih + b_hh per gate, except
// lbr_gru's candidate, which keeps b_in in row 2 and b_hn in row 3. For a gradient the summed
// rows take d(b_ih + b_hh) = db_ih (which equals db_hh there), so b_hh is not added.
std::vector<float> to_ldgo_bias(const float* b_ih, const float* b_hh, CellKind cell, std::int64_t h,
                                bool gradient) {
  const std::vector<int> gate_of = pytorch_gate_of(cell);
  const bool gru = cell == CellKind::gru;
  std::vector<float> out(static_cast<std::size_t>((gate_of.size() + (gru ? 1 : 0)) * h));
  for (std::size_t g = 0; g < gate_of.size(); ++g) {
    const bool summed = !(gru && gate_of[g] == 2);
    for (std::int64_t o = 0; o < h; ++o) {
      const std::int64_t k = gate_of[g] * h + o;
      out[g * h + o] = b_ih[k] + (summed && !gradient ? b_hh[k] : 0.0F);
    }
  }
  if (gru) std::memcpy(out.data() + 3 * h, b_hh + 2 * h, static_cast<std::size_t>(h) * sizeof(float));
  return out;
}

// The descriptors of one case, in oneDNN's terms: its data (x, h, weights, y) in `data` (f32 or
// bf16), the diff_src/diff_dst tensors (dx, dh0, dy, dhn) in `diff`; the cell state, the bias, and
// their and the weights' gradients f32. Zero-initial states are real zero-filled memories (not
// zero descriptors) because oneDNN pairs src_iter with diff_src_iter, and dh0 is checked.
struct CaseMds {
  memory::desc src_layer, src_iter, src_iter_c, weights_layer, weights_iter, bias, dst_layer,
      dst_iter, dst_iter_c;
  memory::desc diff_src_layer, diff_src_iter, diff_src_iter_c, diff_weights_layer,
      diff_weights_iter, diff_bias, diff_dst_layer, diff_dst_iter, diff_dst_iter_c;  // weights: format any
};

CaseMds case_mds(const BenchCase& c, memory::data_type data, memory::data_type diff) {
  const auto f32 = memory::data_type::f32;
  const std::int64_t T = c.steps, B = c.batch, I = c.input, H = c.hidden;
  const std::int64_t G = c.descriptor().gates();
  const std::int64_t bias_rows = c.cell == CellKind::gru ? 4 : G;
  const bool lstm = c.cell == CellKind::lstm;
  CaseMds m;
  m.src_layer = memory::desc(Dims{T, B, I}, data, Tag::tnc);
  m.src_iter = memory::desc(Dims{1, 1, B, H}, data, Tag::ldnc);
  if (lstm) m.src_iter_c = memory::desc(Dims{1, 1, B, H}, f32, Tag::ldnc);
  m.weights_layer = memory::desc(Dims{1, 1, I, G, H}, data, Tag::any);
  m.weights_iter = memory::desc(Dims{1, 1, H, G, H}, data, Tag::any);
  m.bias = memory::desc(Dims{1, 1, bias_rows, H}, f32, Tag::ldgo);
  m.dst_layer = memory::desc(Dims{T, B, H}, data, Tag::tnc);
  m.dst_iter = m.src_iter;
  m.dst_iter_c = m.src_iter_c;
  m.diff_src_layer = memory::desc(Dims{T, B, I}, diff, Tag::tnc);
  m.diff_src_iter = memory::desc(Dims{1, 1, B, H}, diff, Tag::ldnc);
  m.diff_src_iter_c = m.src_iter_c;
  m.diff_weights_layer = memory::desc(Dims{1, 1, I, G, H}, f32, Tag::any);
  m.diff_weights_iter = memory::desc(Dims{1, 1, H, G, H}, f32, Tag::any);
  m.diff_bias = memory::desc(Dims{1, 1, bias_rows, H}, f32, Tag::ldgo);
  m.diff_dst_layer = memory::desc(Dims{T, B, H}, diff, Tag::tnc);
  m.diff_dst_iter = m.diff_src_iter;
  m.diff_dst_iter_c = m.src_iter_c;
  return m;
}

// A oneDNN RNN operation descriptor for the case's cell: forward (prop = forward_inference or
// forward_training) or backward. The three primitives share dnnl_rnn_desc_t.
dnnl_rnn_desc_t rnn_desc(CellKind cell, dnnl::prop_kind prop, const CaseMds& m) {
  const auto dir = dnnl::rnn_direction::unidirectional_left2right;
  const bool backward = prop == dnnl::prop_kind::backward;
  switch (cell) {
    case CellKind::lstm:
      if (backward) {
        return dnnl::lstm_backward::desc(prop, dir, m.src_layer, m.src_iter, m.src_iter_c,
                                         m.weights_layer, m.weights_iter, m.bias, m.dst_layer,
                                         m.dst_iter, m.dst_iter_c, m.diff_src_layer, m.diff_src_iter,
                                         m.diff_src_iter_c, m.diff_weights_layer, m.diff_weights_iter,
                                         m.diff_bias, m.diff_dst_layer, m.diff_dst_iter, m.diff_dst_iter_c)
            .data;
      }
      return dnnl::lstm_forward::desc(prop, dir, m.src_layer, m.src_iter, m.src_iter_c,
                                      m.weights_layer, m.weights_iter, m.bias, m.dst_layer,
                                      m.dst_iter, m.dst_iter_c)
          .data;
    case CellKind::gru:
      if (backward) {
        return dnnl::lbr_gru_backward::desc(prop, dir, m.src_layer, m.src_iter, m.weights_layer,
                                            m.weights_iter, m.bias, m.dst_layer, m.dst_iter,
                                            m.diff_src_layer, m.diff_src_iter, m.diff_weights_layer,
                                            m.diff_weights_iter, m.diff_bias, m.diff_dst_layer,
                                            m.diff_dst_iter)
            .data;
      }
      return dnnl::lbr_gru_forward::desc(prop, dir, m.src_layer, m.src_iter, m.weights_layer,
                                         m.weights_iter, m.bias, m.dst_layer, m.dst_iter)
          .data;
    case CellKind::rnn_tanh:
      if (backward) {
        return dnnl::vanilla_rnn_backward::desc(
                   prop, dnnl::algorithm::eltwise_tanh, dir, m.src_layer, m.src_iter,
                   m.weights_layer, m.weights_iter, m.bias, m.dst_layer, m.dst_iter,
                   m.diff_src_layer, m.diff_src_iter, m.diff_weights_layer, m.diff_weights_iter,
                   m.diff_bias, m.diff_dst_layer, m.diff_dst_iter)
            .data;
      }
      return dnnl::vanilla_rnn_forward::desc(prop, dnnl::algorithm::eltwise_tanh, dir, m.src_layer,
                                             m.src_iter, m.weights_layer, m.weights_iter, m.bias,
                                             m.dst_layer, m.dst_iter)
          .data;
    default:
      throw std::runtime_error(std::string("no oneDNN primitive for cell ") +
                               gpurnn::to_string(cell));
  }
}

// The gpurnn dtype of oneDNN's `dt` (f32 or bf16 here).
gpurnn::DType dtype_of(memory::data_type dt) {
  switch (dt) {
    case memory::data_type::f32: return gpurnn::DType::f32;
    case memory::data_type::bf16: return gpurnn::DType::bf16;
    default: throw std::runtime_error("bench_onednn: unexpected oneDNN data type");
  }
}

// Copies `values` (a host tensor of f32 or bf16) into the plain-format memory `m`, converted to
// m's data type: bf16 widened to f32 exactly, or bf16 values held in f32 narrowed exactly.
void fill(const memory& m, const Tensor& values) {
  const gpurnn::DType want = dtype_of(m.get_desc().data_type());
  const Tensor v = values.dtype() == want ? values : values.to(want);
  if (v.bytes() != m.get_desc().get_size()) {
    throw std::runtime_error("bench_onednn: a oneDNN memory of " + std::to_string(m.get_desc().get_size()) +
                             " bytes given " + std::to_string(v.bytes()));
  }
  std::memcpy(m.get_data_handle(), v.data(), v.bytes());
}
void fill(const memory& m, const std::vector<float>& values) {
  fill(m, Tensor::from_host(gpurnn::Shape{static_cast<std::int64_t>(values.size())}, values.data()));
}
void fill_zero(const memory& m) { std::memset(m.get_data_handle(), 0, m.get_desc().get_size()); }
// NaN in every element of the plain-format memory `m` (f32 or bf16): an output oneDNN does not
// write fails the check.
void fill_nan(const memory& m) {
  if (m.get_desc().data_type() == memory::data_type::bf16) {
    std::fill_n(static_cast<std::uint16_t*>(m.get_data_handle()), m.get_desc().get_size() / 2,
                std::uint16_t{0x7FC0});  // bf16 quiet NaN
  } else {
    std::fill_n(static_cast<float*>(m.get_data_handle()), m.get_desc().get_size() / 4, NAN);
  }
}
// The plain-format memory `m` (f32 or bf16) as floats (bf16 widened exactly).
std::vector<float> as_floats(const memory& m) {
  std::vector<float> out;
  if (m.get_desc().data_type() == memory::data_type::bf16) {
    const auto* bits = static_cast<const std::uint16_t*>(m.get_data_handle());
    out.resize(m.get_desc().get_size() / 2);
    for (std::size_t k = 0; k < out.size(); ++k) out[k] = gpurnn::float_from_bfloat16_bits(bits[k]);
  } else {
    const auto* values = static_cast<const float*>(m.get_data_handle());
    out.assign(values, values + m.get_desc().get_size() / 4);
  }
  return out;
}
// A host tensor's values as floats (f32 as is, bf16 widened exactly).
std::vector<float> as_floats(const Tensor& t) {
  const Tensor v = t.dtype() == gpurnn::DType::f32 ? t : t.to(gpurnn::DType::f32);
  return std::vector<float>(v.data_as<float>(), v.data_as<float>() + v.numel());
}
// Weights of any floating dtype as f32 weights (bf16 widened exactly).
gpurnn::RNNWeights as_f32(const gpurnn::RNNWeights& w) {
  if (w.dtype() == gpurnn::DType::f32) return w.clone();
  gpurnn::RNNWeights out(w.descriptor(), gpurnn::DType::f32);
  gpurnn::copy_into(w.flat().to(gpurnn::DType::f32), out.flat());
  return out;
}

struct Fixture {
  std::string name;
  std::string error;  // set when setup or the check against the cpu backend failed
  Mode mode = Mode::infer;
  std::string impl;          // oneDNN's implementations (primitive_desc::impl_info_str) and diff dtype
  double check_error = 0.0;  // the largest relative error of the check against the cpu backend

  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  dnnl::primitive forward, backward;
  std::unordered_map<int, memory> forward_args, backward_args;

  // One timed iteration.
  void run() {
    forward.execute(stream, forward_args);
    if (mode == Mode::fwd_bwd) backward.execute(stream, backward_args);
    stream.wait();
  }

  // A memory of the primitive's own format and data type for `arg`, holding `user` (a
  // plain-format memory) reordered once.
  memory in_primitive_format(const dnnl::primitive_desc& pd, int arg, const memory& user) {
    const memory::desc want = pd.query_md(dnnl::query::exec_arg_md, arg);
    if (want == user.get_desc()) return user;
    memory m(want, engine);
    dnnl::reorder(user, m).execute(stream, const_cast<memory&>(user), m);
    stream.wait();
    return m;
  }

  // `m` (any format) as a plain memory of `plain` (reordered when they differ).
  memory in_plain_format(const memory& m, const memory::desc& plain) {
    if (m.get_desc() == plain) return m;
    memory out(plain, engine);
    dnnl::reorder(m, out).execute(stream, const_cast<memory&>(m), out);
    stream.wait();
    return out;
  }
};

// The check of oneDNN's outputs against the cpu backend's: the largest relative error seen, and
// "<what> relative error <e>" for each output further than `tolerance`.
struct Check {
  explicit Check(double tolerance_) : tolerance(tolerance_) {}
  double tolerance;
  double worst = 0.0;
  std::string why;

  void compare(const char* what, const std::vector<float>& got, const std::vector<float>& want) {
    double e = std::numeric_limits<double>::quiet_NaN();
    if (got.size() == want.size()) e = relative_error(got.data(), want.data(), got.size());
    worst = std::isnan(e) || std::isnan(worst) ? std::numeric_limits<double>::quiet_NaN() : std::max(worst, e);
    if (!(e <= tolerance)) {
      why += std::string(why.empty() ? "" : ", ") + what + " relative error " + std::to_string(e);
    }
  }
};

// oneDNN's OpenMP threads for the calling thread: --threads, or (0) OpenMP's own default of
// every core. Set before each run: the cpu backend keeps OpenMP at one thread on the threads
// that call it (it runs its own pool, src/cpu/worker_pool.h).
void use_onednn_threads(const BenchOptions& options) {
  omp_set_num_threads(options.threads > 0 ? options.threads : omp_get_num_procs());
}

// "bf16 LSTM forward_training" for the errors that say what oneDNN refused.
std::string what_primitive(const BenchCase& c, dnnl::prop_kind prop) {
  const char* kind = prop == dnnl::prop_kind::forward_inference  ? "forward_inference"
                     : prop == dnnl::prop_kind::forward_training ? "forward_training"
                                                                 : "backward";
  return std::string(gpurnn::to_string(c.dtype)) + " " +
         (c.cell == CellKind::lstm ? "LSTM" : c.cell == CellKind::gru ? "lbr_gru" : "vanilla_rnn") + " " + kind;
}

// oneDNN's refusal `e` as an error that names the primitive and oneDNN's reason.
std::runtime_error refused(const BenchCase& c, dnnl::prop_kind prop, const dnnl::error& e) {
  return std::runtime_error("oneDNN refuses " + what_primitive(c, prop) + " on this CPU: " + e.what() + " (" +
                            dnnl_status2str(e.status) + ")");
}

std::unique_ptr<Fixture> build_fixture(const BenchCase& c, const BenchOptions& options) {
  if (c.dtype != gpurnn::DType::f32 && c.dtype != gpurnn::DType::bf16) {
    throw std::runtime_error(std::string("no oneDNN rival for dtype ") + gpurnn::to_string(c.dtype));
  }
  auto f = std::make_unique<Fixture>();
  f->name = c.name();
  f->mode = c.mode;
  const bool bf16 = c.dtype == gpurnn::DType::bf16;
  const auto f32 = memory::data_type::f32;
  const memory::data_type data_dt = bf16 ? memory::data_type::bf16 : f32;

  // The cpu backend's results on the same inputs (in the case's dtype), and the weights in
  // oneDNN's layout, as f32 values (bf16 ones, for a bf16 case: the reorder into the primitive's
  // bf16 weights is exact).
  const CpuResults want = run_cpu_once(c, options);
  use_onednn_threads(options);
  const std::int64_t H = c.hidden, I = c.input;
  const bool lstm = c.cell == CellKind::lstm;
  const auto param = [](const gpurnn::RNNWeights& w, ParamKind kind) {
    return w.get(kind, 0, 0).data_as<float>();
  };
  const gpurnn::RNNWeights weights = as_f32(want.weights);
  const std::vector<float> w_layer = to_ldigo(param(weights, ParamKind::weight_ih), c.cell, I, H);
  const std::vector<float> w_iter = to_ldigo(param(weights, ParamKind::weight_hh), c.cell, H, H);
  const std::vector<float> bias = to_ldgo_bias(param(weights, ParamKind::bias_ih),
                                               param(weights, ParamKind::bias_hh), c.cell, H, false);

  // The diff_src/diff_dst data type: f32, or for bf16 bf16 where oneDNN takes it, else f32
  // (oneDNN 2.6). The forward descriptors do not depend on it.
  std::vector<memory::data_type> diff_choices{f32};
  if (bf16 && c.mode == Mode::fwd_bwd) diff_choices = {memory::data_type::bf16, f32};
  CaseMds m = case_mds(c, data_dt, diff_choices.front());
  const memory::desc ldigo_layer(m.weights_layer.dims(), f32, Tag::ldigo);
  const memory::desc ldigo_iter(m.weights_iter.dims(), f32, Tag::ldigo);
  dnnl::engine& eng = f->engine;

  const dnnl::prop_kind prop = c.mode == Mode::infer ? dnnl::prop_kind::forward_inference
                                                     : dnnl::prop_kind::forward_training;
  dnnl::primitive_desc fwd_pd;
  try {
    const dnnl_rnn_desc_t fwd_desc = rnn_desc(c.cell, prop, m);
    fwd_pd = dnnl::primitive_desc(&fwd_desc, nullptr, eng, nullptr);
  } catch (const dnnl::error& e) {
    throw refused(c, prop, e);
  }
  f->forward = dnnl::primitive(fwd_pd);
  f->impl = fwd_pd.impl_info_str();

  memory x(m.src_layer, eng), y(m.dst_layer, eng), h0(m.src_iter, eng), hn(m.dst_iter, eng);
  memory user_w_layer(ldigo_layer, eng), user_w_iter(ldigo_iter, eng), b(m.bias, eng);
  fill(x, want.x);
  fill(user_w_layer, w_layer);
  fill(user_w_iter, w_iter);
  fill(b, bias);
  fill_zero(h0);
  const memory fwd_w_layer = f->in_primitive_format(fwd_pd, DNNL_ARG_WEIGHTS_LAYER, user_w_layer);
  const memory fwd_w_iter = f->in_primitive_format(fwd_pd, DNNL_ARG_WEIGHTS_ITER, user_w_iter);
  f->forward_args = {{DNNL_ARG_SRC_LAYER, x},          {DNNL_ARG_SRC_ITER, h0},
                     {DNNL_ARG_WEIGHTS_LAYER, fwd_w_layer}, {DNNL_ARG_WEIGHTS_ITER, fwd_w_iter},
                     {DNNL_ARG_BIAS, b},               {DNNL_ARG_DST_LAYER, y},
                     {DNNL_ARG_DST_ITER, hn}};
  memory c0, cn;
  if (lstm) {
    c0 = memory(m.src_iter_c, eng);
    cn = memory(m.dst_iter_c, eng);
    fill_zero(c0);
    f->forward_args[DNNL_ARG_SRC_ITER_C] = c0;
    f->forward_args[DNNL_ARG_DST_ITER_C] = cn;
  }
  memory workspace;
  if (prop == dnnl::prop_kind::forward_training) {
    workspace = memory(fwd_pd.query_md(dnnl::query::exec_arg_md, DNNL_ARG_WORKSPACE), eng);
    f->forward_args[DNNL_ARG_WORKSPACE] = workspace;
  }

  memory dx, dh0, dc0, dw_layer, dw_iter, db;
  if (c.mode == Mode::fwd_bwd) {
    dnnl::primitive_desc bwd_pd;
    for (std::size_t k = 0; k < diff_choices.size(); ++k) {
      m = case_mds(c, data_dt, diff_choices[k]);
      try {
        const dnnl_rnn_desc_t bwd_desc = rnn_desc(c.cell, dnnl::prop_kind::backward, m);
        bwd_pd = dnnl::primitive_desc(&bwd_desc, nullptr, eng, fwd_pd.get());
        break;
      } catch (const dnnl::error& e) {
        if (k + 1 == diff_choices.size()) throw refused(c, dnnl::prop_kind::backward, e);
      }
    }
    f->backward = dnnl::primitive(bwd_pd);
    f->impl += std::string("+") + bwd_pd.impl_info_str();
    if (bf16) f->impl += m.diff_src_layer.data_type() == f32 ? " diff=f32" : " diff=bf16";
    memory dy(m.diff_dst_layer, eng), dhn(m.diff_dst_iter, eng);
    fill(dy, want.dy);
    fill_zero(dhn);
    dx = memory(m.diff_src_layer, eng);
    dh0 = memory(m.diff_src_iter, eng);
    db = memory(m.diff_bias, eng);
    dw_layer = memory(bwd_pd.query_md(dnnl::query::exec_arg_md, DNNL_ARG_DIFF_WEIGHTS_LAYER), eng);
    dw_iter = memory(bwd_pd.query_md(dnnl::query::exec_arg_md, DNNL_ARG_DIFF_WEIGHTS_ITER), eng);
    f->backward_args = {
        {DNNL_ARG_SRC_LAYER, x},
        {DNNL_ARG_SRC_ITER, h0},
        {DNNL_ARG_WEIGHTS_LAYER, f->in_primitive_format(bwd_pd, DNNL_ARG_WEIGHTS_LAYER, user_w_layer)},
        {DNNL_ARG_WEIGHTS_ITER, f->in_primitive_format(bwd_pd, DNNL_ARG_WEIGHTS_ITER, user_w_iter)},
        {DNNL_ARG_BIAS, b},
        {DNNL_ARG_DST_LAYER, y},
        {DNNL_ARG_DST_ITER, hn},
        {DNNL_ARG_WORKSPACE, workspace},
        {DNNL_ARG_DIFF_DST_LAYER, dy},
        {DNNL_ARG_DIFF_DST_ITER, dhn},
        {DNNL_ARG_DIFF_SRC_LAYER, dx},
        {DNNL_ARG_DIFF_SRC_ITER, dh0},
        {DNNL_ARG_DIFF_WEIGHTS_LAYER, dw_layer},
        {DNNL_ARG_DIFF_WEIGHTS_ITER, dw_iter},
        {DNNL_ARG_DIFF_BIAS, db}};
    if (lstm) {
      memory dcn(m.diff_dst_iter_c, eng);
      fill_zero(dcn);
      dc0 = memory(m.diff_src_iter_c, eng);
      f->backward_args[DNNL_ARG_SRC_ITER_C] = c0;
      f->backward_args[DNNL_ARG_DST_ITER_C] = cn;
      f->backward_args[DNNL_ARG_DIFF_DST_ITER_C] = dcn;
      f->backward_args[DNNL_ARG_DIFF_SRC_ITER_C] = dc0;
    }
    // oneDNN accumulates weight gradients: start the checked run from zero. The timed loop
    // keeps accumulating, which costs the same as gpurnn's overwrite (GEMM beta 1 vs 0).
    fill_zero(dw_layer);
    fill_zero(dw_iter);
    fill_zero(db);
  }

  // One untimed run, checked against the cpu backend; it also warms caches and threads.
  for (const memory& out : {y, hn, cn, dx, dh0, dc0}) {
    if (out) fill_nan(out);
  }
  f->run();
  Check check(bf16 ? kToleranceBf16 : kTolerance);
  check.compare("y", as_floats(y), as_floats(want.y));
  check.compare("hn", as_floats(hn), as_floats(want.hn));
  if (lstm) check.compare("cn", as_floats(cn), as_floats(want.cn));
  if (c.mode == Mode::fwd_bwd) {
    check.compare("dx", as_floats(dx), as_floats(want.dx));
    check.compare("dh0", as_floats(dh0), as_floats(want.dh0));
    if (lstm) check.compare("dc0", as_floats(dc0), as_floats(want.dc0));
    // The weight gradients are f32 on both sides.
    check.compare("d weight_ih", as_floats(f->in_plain_format(dw_layer, ldigo_layer)),
                  to_ldigo(param(want.grads, ParamKind::weight_ih), c.cell, I, H));
    check.compare("d weight_hh", as_floats(f->in_plain_format(dw_iter, ldigo_iter)),
                  to_ldigo(param(want.grads, ParamKind::weight_hh), c.cell, H, H));
    check.compare("d bias", as_floats(db),
                  to_ldgo_bias(param(want.grads, ParamKind::bias_ih), param(want.grads, ParamKind::bias_hh),
                               c.cell, H, true));
  }
  f->check_error = check.worst;
  if (!check.why.empty()) {
    char tolerance[32];
    std::snprintf(tolerance, sizeof tolerance, "%g", check.tolerance);
    f->error = std::string("oneDNN differs from the cpu backend (") + (bf16 ? "bf16 " : "") + "tolerance " +
               tolerance + "): " + check.why;
  }
  return f;
}

// The case whose primitives and buffers are alive (as in bench_cpu.cpp).
std::unique_ptr<Fixture> g_current;

void run_case(benchmark::State& state, const BenchCase& c, const BenchOptions& options) {
  const std::string name = c.name();
  if (!g_current || g_current->name != name) {
    g_current.reset();
    try {
      g_current = build_fixture(c, options);
    } catch (const std::exception& e) {
      state.SkipWithError((std::string("setup failed: ") + e.what()).c_str());
      return;
    }
  }
  Fixture& f = *g_current;
  if (!f.error.empty()) {
    state.SkipWithError(f.error.c_str());
    return;
  }
  state.SetLabel("threads=" + std::to_string(options.threads) + " impl=" + f.impl);
  use_onednn_threads(options);  // the cpu backend's rows, interleaved, hold OpenMP at one thread
  for (auto _ : state) {
    try {
      f.run();
    } catch (const std::exception& e) {
      f.error = e.what();
      state.SkipWithError(f.error.c_str());
      break;
    }
    benchmark::ClobberMemory();
  }
  set_counters(state, c);
  // The check's largest relative error against the cpu backend (not a rate: shown as is).
  state.counters["check_rel_err"] = f.check_error;
}

}  // namespace

void register_onednn_benchmarks(const std::vector<BenchCase>& cases, const BenchOptions& options) {
  for (BenchCase c : cases) {
    if (c.directions != 1) continue;  // this comparison builds one-direction primitives only
    if (c.prepared) continue;         // one onednn row per shape (its weights are reordered once anyway)
    // f32 ("onednn") and bf16 ("onednn_bf16"); no f16 row (oneDNN's f16 RNN, in the versions
    // that have one, is forward-only with an f16 bias: not wired here).
    if (c.dtype != gpurnn::DType::f32 && c.dtype != gpurnn::DType::bf16) continue;
    c.backend = "onednn";
    benchmark::RegisterBenchmark(c.name().c_str(),
                                 [c, options](benchmark::State& state) { run_case(state, c, options); })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace gpurnn_bench
