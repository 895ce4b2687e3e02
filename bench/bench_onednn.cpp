// oneDNN's RNN primitives (LSTM, lbr_gru, vanilla_rnn with tanh) as the CPU rival, timed on
// the cpu backend's cases under the backend name "onednn".
//
// Before a case is timed, oneDNN runs once on the inputs and weights of the cpu backend's
// benchmark (converted from PyTorch's layout) and its outputs are compared with the cpu
// backend's: y, hn, cn, and for fwd_bwd dx, dh0, dc0 and every weight gradient. A relative
// error above kTolerance fails the case, so a row only exists when oneDNN computed the same
// thing as gpurnn.
//
// Layout conversion. PyTorch's weight_ih is [G*H, I] with gate rows LSTM i,f,g,o / GRU r,z,n;
// oneDNN's weights are ldigo [L=1, D=1, I, G, H]. oneDNN's LSTM gates are i,f,c,o (PyTorch's
// order); its lbr_gru gates are u,r,o with u = PyTorch's z, and lbr_gru is the GRU whose
// candidate is tanh(W_o x + b_o + r ⊙ (U_o h + b_u')), PyTorch's n. Biases: oneDNN has one
// bias per gate (b_ih + b_hh), plus for lbr_gru a fourth row b_u' = b_hn.
//
// Weights are given to the primitive in the format it picks (format_tag::any), reordered once
// outside the timed loop; oneDNN's OpenMP threads are set to --threads (0: its default).

#include <dnnl.hpp>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <exception>
#include <memory>
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

constexpr double kTolerance = 1e-4;  // relative error ||a - b|| / ||b|| in f32

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

// The descriptors of one case, in oneDNN's terms. Zero-initial states are real zero-filled
// memories (not zero descriptors) because oneDNN pairs src_iter with diff_src_iter, and dh0 is
// checked.
struct CaseMds {
  memory::desc src_layer, src_iter, src_iter_c, weights_layer, weights_iter, bias, dst_layer,
      dst_iter, dst_iter_c;
  memory::desc diff_weights_layer, diff_weights_iter;  // format any
};

CaseMds case_mds(const BenchCase& c) {
  const auto f32 = memory::data_type::f32;
  const std::int64_t T = c.steps, B = c.batch, I = c.input, H = c.hidden;
  const std::int64_t G = c.descriptor().gates();
  const std::int64_t bias_rows = c.cell == CellKind::gru ? 4 : G;
  const bool lstm = c.cell == CellKind::lstm;
  CaseMds m;
  m.src_layer = memory::desc(Dims{T, B, I}, f32, Tag::tnc);
  m.src_iter = memory::desc(Dims{1, 1, B, H}, f32, Tag::ldnc);
  if (lstm) m.src_iter_c = m.src_iter;
  m.weights_layer = memory::desc(Dims{1, 1, I, G, H}, f32, Tag::any);
  m.weights_iter = memory::desc(Dims{1, 1, H, G, H}, f32, Tag::any);
  m.bias = memory::desc(Dims{1, 1, bias_rows, H}, f32, Tag::ldgo);
  m.dst_layer = memory::desc(Dims{T, B, H}, f32, Tag::tnc);
  m.dst_iter = m.src_iter;
  if (lstm) m.dst_iter_c = m.src_iter;
  m.diff_weights_layer = m.weights_layer;
  m.diff_weights_iter = m.weights_iter;
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
                                         m.dst_iter, m.dst_iter_c, m.src_layer, m.src_iter,
                                         m.src_iter_c, m.diff_weights_layer, m.diff_weights_iter,
                                         m.bias, m.dst_layer, m.dst_iter, m.dst_iter_c)
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
                                            m.src_layer, m.src_iter, m.diff_weights_layer,
                                            m.diff_weights_iter, m.bias, m.dst_layer, m.dst_iter)
            .data;
      }
      return dnnl::lbr_gru_forward::desc(prop, dir, m.src_layer, m.src_iter, m.weights_layer,
                                         m.weights_iter, m.bias, m.dst_layer, m.dst_iter)
          .data;
    case CellKind::rnn_tanh:
      if (backward) {
        return dnnl::vanilla_rnn_backward::desc(
                   prop, dnnl::algorithm::eltwise_tanh, dir, m.src_layer, m.src_iter,
                   m.weights_layer, m.weights_iter, m.bias, m.dst_layer, m.dst_iter, m.src_layer,
                   m.src_iter, m.diff_weights_layer, m.diff_weights_iter, m.bias, m.dst_layer,
                   m.dst_iter)
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

void fill(const memory& m, const float* values, std::size_t count) {
  std::memcpy(m.get_data_handle(), values, count * sizeof(float));
}
void fill_zero(const memory& m) { std::memset(m.get_data_handle(), 0, m.get_desc().get_size()); }

struct Fixture {
  std::string name;
  std::string error;  // set when setup or the check against the cpu backend failed
  Mode mode = Mode::infer;

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

  // A memory of the primitive's own format for `arg`, holding `user` (a plain-format memory)
  // reordered once.
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

// Appends "<what>: <error>" to `why` when oneDNN's `got` is further than kTolerance from `want`.
void compare(std::string& why, const char* what, const float* got, const float* want,
             std::size_t count) {
  const double e = relative_error(got, want, count);
  if (!(e <= kTolerance)) {
    why += std::string(why.empty() ? "" : ", ") + what + " relative error " + std::to_string(e);
  }
}

// oneDNN's OpenMP threads for the calling thread: --threads, or (0) OpenMP's own default of
// every core. Set before each run: the cpu backend keeps OpenMP at one thread on the threads
// that call it (it runs its own pool, src/cpu/worker_pool.h).
void use_onednn_threads(const BenchOptions& options) {
  omp_set_num_threads(options.threads > 0 ? options.threads : omp_get_num_procs());
}

std::unique_ptr<Fixture> build_fixture(const BenchCase& c, const BenchOptions& options) {
  auto f = std::make_unique<Fixture>();
  f->name = c.name();
  f->mode = c.mode;

  // The cpu backend's results on the same inputs, and the weights in oneDNN's layout.
  const CpuResults want = run_cpu_once(c, options);
  use_onednn_threads(options);
  const std::int64_t H = c.hidden, I = c.input;
  const bool lstm = c.cell == CellKind::lstm;
  const auto param = [](const gpurnn::RNNWeights& w, ParamKind kind) {
    return w.get(kind, 0, 0).data_as<float>();
  };
  const std::vector<float> w_layer = to_ldigo(param(want.weights, ParamKind::weight_ih), c.cell, I, H);
  const std::vector<float> w_iter = to_ldigo(param(want.weights, ParamKind::weight_hh), c.cell, H, H);
  const std::vector<float> bias = to_ldgo_bias(param(want.weights, ParamKind::bias_ih),
                                               param(want.weights, ParamKind::bias_hh), c.cell, H, false);

  CaseMds m = case_mds(c);
  const auto f32 = memory::data_type::f32;
  const memory::desc ldigo_layer(m.weights_layer.dims(), f32, Tag::ldigo);
  const memory::desc ldigo_iter(m.weights_iter.dims(), f32, Tag::ldigo);
  dnnl::engine& eng = f->engine;

  const dnnl::prop_kind prop = c.mode == Mode::infer ? dnnl::prop_kind::forward_inference
                                                     : dnnl::prop_kind::forward_training;
  const dnnl_rnn_desc_t fwd_desc = rnn_desc(c.cell, prop, m);
  const dnnl::primitive_desc fwd_pd(&fwd_desc, nullptr, eng, nullptr);
  f->forward = dnnl::primitive(fwd_pd);

  memory x(m.src_layer, eng), y(m.dst_layer, eng), h0(m.src_iter, eng), hn(m.dst_iter, eng);
  memory user_w_layer(ldigo_layer, eng), user_w_iter(ldigo_iter, eng), b(m.bias, eng);
  fill(x, want.x.data_as<float>(), static_cast<std::size_t>(want.x.numel()));
  fill(user_w_layer, w_layer.data(), w_layer.size());
  fill(user_w_iter, w_iter.data(), w_iter.size());
  fill(b, bias.data(), bias.size());
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
    const dnnl_rnn_desc_t bwd_desc = rnn_desc(c.cell, dnnl::prop_kind::backward, m);
    const dnnl::primitive_desc bwd_pd(&bwd_desc, nullptr, eng, fwd_pd.get());
    f->backward = dnnl::primitive(bwd_pd);
    memory dy(m.dst_layer, eng), dhn(m.dst_iter, eng);
    fill(dy, want.dy.data_as<float>(), static_cast<std::size_t>(want.dy.numel()));
    fill_zero(dhn);
    dx = memory(m.src_layer, eng);
    dh0 = memory(m.src_iter, eng);
    db = memory(m.bias, eng);
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
      memory dcn(m.dst_iter_c, eng);
      fill_zero(dcn);
      dc0 = memory(m.src_iter_c, eng);
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
    if (out) std::fill_n(static_cast<float*>(out.get_data_handle()), out.get_desc().get_size() / 4, NAN);
  }
  f->run();
  const auto as_floats = [](const memory& mem) { return static_cast<const float*>(mem.get_data_handle()); };
  const auto numel = [](const Tensor& t) { return static_cast<std::size_t>(t.numel()); };
  std::string why;
  compare(why, "y", as_floats(y), want.y.data_as<float>(), numel(want.y));
  compare(why, "hn", as_floats(hn), want.hn.data_as<float>(), numel(want.hn));
  if (lstm) compare(why, "cn", as_floats(cn), want.cn.data_as<float>(), numel(want.cn));
  if (c.mode == Mode::fwd_bwd) {
    compare(why, "dx", as_floats(dx), want.dx.data_as<float>(), numel(want.dx));
    compare(why, "dh0", as_floats(dh0), want.dh0.data_as<float>(), numel(want.dh0));
    if (lstm) compare(why, "dc0", as_floats(dc0), want.dc0.data_as<float>(), numel(want.dc0));
    const std::vector<float> dw_layer_want = to_ldigo(param(want.grads, ParamKind::weight_ih), c.cell, I, H);
    const std::vector<float> dw_iter_want = to_ldigo(param(want.grads, ParamKind::weight_hh), c.cell, H, H);
    const std::vector<float> db_want = to_ldgo_bias(param(want.grads, ParamKind::bias_ih),
                                                    param(want.grads, ParamKind::bias_hh), c.cell, H, true);
    compare(why, "d weight_ih", as_floats(f->in_plain_format(dw_layer, ldigo_layer)),
            dw_layer_want.data(), dw_layer_want.size());
    compare(why, "d weight_hh", as_floats(f->in_plain_format(dw_iter, ldigo_iter)),
            dw_iter_want.data(), dw_iter_want.size());
    compare(why, "d bias", as_floats(db), db_want.data(), db_want.size());
  }
  if (!why.empty()) f->error = "oneDNN differs from the cpu backend (tolerance 1e-4): " + why;
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
  state.SetLabel("threads=" + std::to_string(options.threads));
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
}

}  // namespace

void register_onednn_benchmarks(const std::vector<BenchCase>& cases, const BenchOptions& options) {
  for (BenchCase c : cases) {
    if (c.directions != 1) continue;  // this comparison builds one-direction primitives only
    if (c.prepared) continue;         // one onednn row per shape (its weights are reordered once anyway)
    c.backend = "onednn";
    benchmark::RegisterBenchmark(c.name().c_str(),
                                 [c, options](benchmark::State& state) { run_case(state, c, options); })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace gpurnn_bench
