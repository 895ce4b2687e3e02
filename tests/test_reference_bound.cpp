// The half-precision ground truth (reference/naive_rnn_bound.h) checked on its own, without the
// library's backends: emulations that compute by the precision rule (issue 30) stay within the
// bound everywhere, the bound is small enough to mean something, and emulations that break the
// rule (a coarser rounding, c rounded every step) fall outside it somewhere.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "gpurnn/dtype.h"
#include "gpurnn/half.h"
#include "reference/naive_rnn.h"
#include "reference/naive_rnn_bound.h"

using gpurnn::DType;
using gpurnn_ref::BoundedResult;
using gpurnn_ref::Cell;
using gpurnn_ref::Config;
using gpurnn_ref::DropoutScale;
using gpurnn_ref::HalfRule;
using gpurnn_ref::LayerParams;
using gpurnn_ref::Params;
using gpurnn_ref::Result;

namespace {

std::size_t sz(long long v) { return static_cast<std::size_t>(v); }

// round_D through the library's storage types (nearest, ties to even).
double to_half(double v, DType dtype) {
  if (dtype == DType::bf16) return static_cast<double>(static_cast<float>(gpurnn::bfloat16(v)));
  return static_cast<double>(static_cast<float>(gpurnn::float16(v)));
}

// Nearest with `bits` significant bits, ties to even, no exponent limits (the wrong emulations).
double round_bits(double v, int bits) {
  if (v == 0.0 || !std::isfinite(v)) return v;
  int e = 0;
  std::frexp(v, &e);
  return std::ldexp(std::nearbyint(std::ldexp(v, bits - e)), e - bits);
}

int precision_of(DType dtype) { return dtype == DType::bf16 ? 8 : 11; }

// A problem whose inputs are D values (random_case below).
struct Case {
  Config cfg{};
  Params params;
  std::vector<double> x, h0, c0;
  bool has_h0 = false, has_c0 = false;
  int T = 1, B = 1;
  std::vector<int> lengths;
  bool dropout = false;
  unsigned dropout_seed = 0;

  const std::vector<double>* h0p() const { return has_h0 ? &h0 : nullptr; }
  const std::vector<double>* c0p() const { return has_c0 ? &c0 : nullptr; }
  // p = 0.25: kept values times 4/3 (not a D value, so the product is rounded).
  DropoutScale scale() const {
    if (!dropout) return nullptr;
    const unsigned seed = dropout_seed;
    return [seed](int l, int t, int b, int j) {
      std::uint32_t s = seed ^ (static_cast<std::uint32_t>(l) * 0x9e3779b9u) ^
                        (static_cast<std::uint32_t>(t) * 0x85ebca6bu) ^
                        (static_cast<std::uint32_t>(b) * 0xc2b2ae35u) ^ (static_cast<std::uint32_t>(j) * 0x27d4eb2fu);
      s ^= s >> 15;
      s *= 0x2c1b3c6du;
      s ^= s >> 12;
      return (s & 3u) == 0u ? 0.0 : 4.0 / 3.0;
    };
  }
};

// random_case's draw: every cell option, H and T up to these, weights uniform(+-gain/sqrt(H))
// (PyTorch's init for gain 1; saturating the gates when large), x, h0 and c0 uniform(+-input_gain),
// all rounded to D.
struct Shapes {
  int max_H = 24;
  int max_T = 12;
  double gain = 1.0;
  double input_gain = 1.0;
};

Case random_case(std::mt19937_64& rng, Cell cell, DType dtype, const Shapes& shapes = Shapes()) {
  // Drawn from the engine's output directly (the std distributions differ between libraries), so
  // the cases, and the sizes the tests below hold the bound to, are the same everywhere.
  auto pick = [&](int lo, int hi) { return lo + static_cast<int>(rng() % static_cast<std::uint64_t>(hi - lo + 1)); };
  auto uni = [&](double a) {
    return to_half((std::ldexp(static_cast<double>(rng() >> 11), -52) - 1.0) * a, dtype);
  };
  Case k;
  k.cfg.cell = cell;
  k.cfg.input_size = pick(1, 16);
  k.cfg.hidden_size = pick(1, shapes.max_H);
  k.cfg.num_layers = pick(1, 2);
  k.cfg.bidirectional = pick(0, 1) == 1;
  k.cfg.bias = pick(0, 3) != 0;
  k.cfg.proj_size = cell == Cell::lstm && k.cfg.hidden_size > 1 && pick(0, 1) == 1 ? pick(1, k.cfg.hidden_size - 1) : 0;
  k.T = pick(1, shapes.max_T);
  k.B = pick(1, 2);
  for (int b = 0; b < k.B; ++b) k.lengths.push_back(b == 0 ? k.T : pick(1, k.T));
  const int G = cell == Cell::lstm ? 4 : (cell == Cell::gru ? 3 : 1);
  const int D = k.cfg.bidirectional ? 2 : 1;
  const int H = k.cfg.hidden_size;
  const int ho = k.cfg.proj_size > 0 ? k.cfg.proj_size : H;
  const double a = shapes.gain / std::sqrt(static_cast<double>(H));
  auto fill = [&](std::vector<double>& v, long long n, double amp) {
    v.resize(sz(n));
    for (double& e : v) e = uni(amp);
  };
  for (int l = 0; l < k.cfg.num_layers; ++l) {
    const int in = l == 0 ? k.cfg.input_size : D * ho;
    for (int d = 0; d < D; ++d) {
      LayerParams p;
      fill(p.w_ih, static_cast<long long>(G) * H * in, a);
      fill(p.w_hh, static_cast<long long>(G) * H * ho, a);
      if (k.cfg.bias) {
        fill(p.b_ih, static_cast<long long>(G) * H, a);
        fill(p.b_hh, static_cast<long long>(G) * H, a);
      }
      if (k.cfg.proj_size > 0) fill(p.w_hr, static_cast<long long>(ho) * H, a);
      k.params.push_back(p);
    }
  }
  fill(k.x, static_cast<long long>(k.T) * k.B * k.cfg.input_size, shapes.input_gain);
  const long long LD = static_cast<long long>(k.cfg.num_layers) * D;
  k.has_h0 = pick(0, 1) == 1;
  if (k.has_h0) fill(k.h0, LD * k.B * ho, shapes.input_gain);
  k.has_c0 = cell == Cell::lstm && pick(0, 1) == 1;
  if (k.has_c0) fill(k.c0, LD * k.B * H, shapes.input_gain);
  k.dropout = k.cfg.num_layers > 1 && pick(0, 1) == 1;
  k.dropout_seed = static_cast<unsigned>(rng());
  return k;
}

// What a backend may do, emulated: arithmetic in R (double, or float: every operation's result in
// float; f32 GEMMs summed in one order or the reverse one, with fused multiply-adds or without),
// `out` the rounding of h, m, the next layer's input and cn to D, `c_step` what happens to c after
// each step (nothing, by the rule).
struct Rounding {
  std::function<double(double)> out;
  std::function<double(double)> c_step = [](double v) { return v; };
};

template <class R>
R sigmoid_r(R v) {
  return R(1) / (R(1) + std::exp(-v));
}

template <class R>
Result emulate(const Case& k, const Rounding& rd, bool reverse_sums, bool fused = false) {
  const Config& cfg = k.cfg;
  const int D = cfg.bidirectional ? 2 : 1;
  const int H = cfg.hidden_size;
  const int ho = cfg.proj_size > 0 ? cfg.proj_size : H;
  const int G = cfg.cell == Cell::lstm ? 4 : (cfg.cell == Cell::gru ? 3 : 1);
  const long long LD = static_cast<long long>(cfg.num_layers) * D;
  const int T = k.T, B = k.B;
  const DropoutScale dropout = k.scale();
  auto out = [&](R v) { return static_cast<R>(rd.out(static_cast<double>(v))); };
  // bias + sum_k w[row, k] v[k] in R, in one order or the other.
  auto dot = [&](const std::vector<double>& w, int row, int cols, const std::vector<R>& v,
                 const std::vector<double>& bias) {
    R acc = R(0);
    if (!reverse_sums && !bias.empty()) acc = static_cast<R>(bias[sz(row)]);
    for (int n = 0; n < cols; ++n) {
      const int c = reverse_sums ? cols - 1 - n : n;
      const R wk = static_cast<R>(w[sz(static_cast<long long>(row) * cols + c)]);
      acc = fused ? std::fma(wk, v[sz(c)], acc) : acc + wk * v[sz(c)];
    }
    if (reverse_sums && !bias.empty()) acc = acc + static_cast<R>(bias[sz(row)]);
    return acc;
  };

  Result res;
  res.hn.assign(sz(LD * B * ho), 0.0);
  if (cfg.cell == Cell::lstm) res.cn.assign(sz(LD * B * H), 0.0);
  std::vector<double> layer_in = k.x;
  int in = cfg.input_size;
  for (int l = 0; l < cfg.num_layers; ++l) {
    const int width = D * ho;
    std::vector<double> y(sz(static_cast<long long>(T) * B * width), 0.0);
    for (int d = 0; d < D; ++d) {
      const long long st = static_cast<long long>(l) * D + d;
      const LayerParams& p = k.params[sz(st)];
      for (int b = 0; b < B; ++b) {
        std::vector<R> h(sz(ho), R(0)), c(sz(H), R(0));
        for (int j = 0; j < ho; ++j) {
          if (k.has_h0) h[sz(j)] = static_cast<R>(k.h0[sz((st * B + b) * ho + j)]);
        }
        for (int j = 0; j < H; ++j) {
          if (k.has_c0) c[sz(j)] = static_cast<R>(k.c0[sz((st * B + b) * H + j)]);
        }
        const int len = k.lengths[sz(b)];
        for (int s = 0; s < len; ++s) {
          const int t = d == 0 ? s : len - 1 - s;
          std::vector<R> xt(sz(in));
          for (int i = 0; i < in; ++i) xt[sz(i)] = static_cast<R>(layer_in[sz((static_cast<long long>(t) * B + b) * in + i)]);
          std::vector<R> gi(sz(G * H)), gh(sz(G * H));
          for (int r = 0; r < G * H; ++r) {
            gi[sz(r)] = dot(p.w_ih, r, in, xt, p.b_ih);
            gh[sz(r)] = dot(p.w_hh, r, ho, h, p.b_hh);
          }
          if (cfg.cell == Cell::lstm) {
            std::vector<R> m(sz(H));
            for (int j = 0; j < H; ++j) {
              const R ig = sigmoid_r(gi[sz(j)] + gh[sz(j)]);
              const R fg = sigmoid_r(gi[sz(H + j)] + gh[sz(H + j)]);
              const R gg = std::tanh(gi[sz(2 * H + j)] + gh[sz(2 * H + j)]);
              const R og = sigmoid_r(gi[sz(3 * H + j)] + gh[sz(3 * H + j)]);
              const R cj = fused ? std::fma(fg, c[sz(j)], ig * gg) : fg * c[sz(j)] + ig * gg;
              c[sz(j)] = static_cast<R>(rd.c_step(static_cast<double>(cj)));
              m[sz(j)] = og * std::tanh(c[sz(j)]);
            }
            if (cfg.proj_size > 0) {
              for (R& v : m) v = out(v);
              for (int r = 0; r < ho; ++r) h[sz(r)] = out(dot(p.w_hr, r, H, m, {}));
            } else {
              for (int j = 0; j < H; ++j) h[sz(j)] = out(m[sz(j)]);
            }
          } else if (cfg.cell == Cell::gru) {
            for (int j = 0; j < H; ++j) {
              const R r = sigmoid_r(gi[sz(j)] + gh[sz(j)]);
              const R z = sigmoid_r(gi[sz(H + j)] + gh[sz(H + j)]);
              const R n = std::tanh(gi[sz(2 * H + j)] + r * gh[sz(2 * H + j)]);
              h[sz(j)] = out(fused ? std::fma(z, h[sz(j)], (R(1) - z) * n) : (R(1) - z) * n + z * h[sz(j)]);
            }
          } else {
            for (int j = 0; j < H; ++j) {
              const R a = gi[sz(j)] + gh[sz(j)];
              const R v = cfg.cell == Cell::rnn_tanh ? std::tanh(a)
                          : cfg.cell == Cell::rnn_relu ? (a > R(0) ? a : R(0))
                                                       : sigmoid_r(a);
              h[sz(j)] = out(v);
            }
          }
          for (int j = 0; j < ho; ++j) y[sz((static_cast<long long>(t) * B + b) * width + d * ho + j)] = static_cast<double>(h[sz(j)]);
        }
        for (int j = 0; j < ho; ++j) res.hn[sz((st * B + b) * ho + j)] = static_cast<double>(h[sz(j)]);
        if (cfg.cell == Cell::lstm) {
          for (int j = 0; j < H; ++j) res.cn[sz((st * B + b) * H + j)] = rd.out(static_cast<double>(c[sz(j)]));
        }
      }
    }
    if (l == cfg.num_layers - 1) {
      res.y = y;
    } else {
      if (dropout) {
        for (int t = 0; t < T; ++t) {
          for (int b = 0; b < B; ++b) {
            if (t >= k.lengths[sz(b)]) continue;
            for (int j = 0; j < width; ++j) {
              double& v = y[sz((static_cast<long long>(t) * B + b) * width + j)];
              v = rd.out(static_cast<double>(static_cast<R>(v) * static_cast<R>(dropout(l, t, b, j))));
            }
          }
        }
      }
      layer_in = y;
      in = width;
    }
  }
  return res;
}

// Over y, hn and cn: how many elements fall outside the bound, and the largest error / bound.
struct Check {
  long long outside = 0;
  double worst_ratio = 0.0;
};

void check_into(const std::vector<double>& actual, const std::vector<double>& exact,
                const std::vector<double>& bound, Check& c) {
  ASSERT_EQ(actual.size(), exact.size());
  ASSERT_EQ(bound.size(), exact.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const double err = std::fabs(actual[i] - exact[i]);
    if (!(err <= bound[i]) && bound[i] != INFINITY) ++c.outside;
    if (bound[i] > 0.0) c.worst_ratio = std::max(c.worst_ratio, err / bound[i]);
  }
}

Check check(const Result& actual, const BoundedResult& expected) {
  Check c;
  check_into(actual.y, expected.exact.y, expected.bound.y, c);
  check_into(actual.hn, expected.exact.hn, expected.bound.hn, c);
  check_into(actual.cn, expected.exact.cn, expected.bound.cn, c);
  return c;
}

const Cell kCells[] = {Cell::rnn_tanh, Cell::rnn_relu, Cell::rnn_sigmoid, Cell::lstm, Cell::gru};
constexpr int kCasesPerCell = 30;

const char* name_of(Cell cell) {
  switch (cell) {
    case Cell::rnn_tanh: return "rnn_tanh";
    case Cell::rnn_relu: return "rnn_relu";
    case Cell::rnn_sigmoid: return "rnn_sigmoid";
    case Cell::lstm: return "lstm";
    case Cell::gru: return "gru";
  }
  return "?";
}

std::string describe(const Case& k) {
  const Config& c = k.cfg;
  return std::string(name_of(c.cell)) + " I=" + std::to_string(c.input_size) + " H=" + std::to_string(c.hidden_size) +
         " L=" + std::to_string(c.num_layers) + (c.bidirectional ? " bidir" : "") + (c.bias ? "" : " no-bias") +
         " proj=" + std::to_string(c.proj_size) + " T=" + std::to_string(k.T) + " B=" + std::to_string(k.B) +
         (k.has_h0 ? " h0" : "") + (k.has_c0 ? " c0" : "") + (k.dropout ? " dropout" : "");
}

BoundedResult bound_of(const Case& k, DType dtype) {
  return gpurnn_ref::forward_bound(k.cfg, k.params, k.x, k.T, k.B, k.lengths, k.h0p(), k.c0p(),
                                   gpurnn_ref::half_rule(gpurnn::unit_roundoff(dtype)), k.scale());
}

// The sweep: kCasesPerCell random problems of each cell, with their bounds (computed once, shared
// by the tests below).
struct Swept {
  Case k;
  BoundedResult bounded;
};

const std::vector<Swept>& sweep(DType dtype) {
  static std::vector<Swept> cached[2];
  std::vector<Swept>& cases = cached[dtype == DType::bf16 ? 0 : 1];
  if (cases.empty()) {
    std::mt19937_64 rng(dtype == DType::bf16 ? 1234u : 5678u);
    for (int n = 0; n < kCasesPerCell; ++n) {
      for (Cell cell : kCells) {
        Case k = random_case(rng, cell, dtype);
        BoundedResult bounded = bound_of(k, dtype);
        cases.push_back(Swept{std::move(k), std::move(bounded)});
      }
    }
  }
  return cases;
}

Rounding by_the_rule(DType dtype) {
  Rounding r;
  r.out = [dtype](double v) { return to_half(v, dtype); };
  return r;
}

// The model's worst roundings rather than D's: every rounding errs by the full u |v|, upward, or
// with a sign from the value's bits. Not D values, but what the bound must hold for all the same.
Rounding at_full_u(DType dtype, bool mixed_signs) {
  const double u = gpurnn::unit_roundoff(dtype);
  Rounding r;
  r.out = [u, mixed_signs](double v) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    const bool down = mixed_signs && ((bits >> 29) & 1u) != 0;
    return v * (down ? 1.0 - u : 1.0 + u);
  };
  return r;
}

// The rule, emulated three ways (double; float; float, sums reversed and fused), and the model's
// extreme roundings (full u, in double) stay within the bound everywhere; the bound's size is reported
// and held to at most 16u over y, and to at most 32 times the error the emulation really makes.
void expect_rule_within_bound(DType dtype) {
  const double u = gpurnn::unit_roundoff(dtype);
  const Rounding rule = by_the_rule(dtype);
  double largest_bound_y = 0.0, largest_relative = 0.0, largest_gap = 0.0, tightest = 0.0;
  std::string largest_case, gap_case;
  for (const Swept& c : sweep(dtype)) {
    const Case& k = c.k;
    const BoundedResult& br = c.bounded;
    const Result in_float = emulate<float>(k, rule, false);
    const Check checks[] = {check(emulate<double>(k, rule, false), br), check(in_float, br),
                            check(emulate<float>(k, rule, true, true), br),
                            check(emulate<double>(k, at_full_u(dtype, false), false), br),
                            check(emulate<double>(k, at_full_u(dtype, true), false), br)};
    for (const Check& ch : checks) {
      EXPECT_EQ(ch.outside, 0) << describe(k);
      tightest = std::max(tightest, ch.worst_ratio);
    }
    double by = 0.0, ay = 0.0, ey = 0.0;
    for (std::size_t i = 0; i < br.bound.y.size(); ++i) {
      by = std::max(by, br.bound.y[i]);
      ay = std::max(ay, std::fabs(br.exact.y[i]));
      ey = std::max(ey, std::fabs(in_float.y[i] - br.exact.y[i]));
    }
    if (by > largest_bound_y) {
      largest_bound_y = by;
      largest_case = describe(k);
    }
    if (ay > 0.0) largest_relative = std::max(largest_relative, by / ay);
    if (ey > 0.0 && by / ey > largest_gap) {
      largest_gap = by / ey;
      gap_case = describe(k);
    }
  }
  std::cout << "[ bound    ] " << gpurnn::to_string(dtype) << ": max bound over y " << largest_bound_y << " = "
            << largest_bound_y / u << "u (" << largest_case << "); max over cases of max bound(y) / max |y| "
            << largest_relative << "; max over cases of max bound(y) / max emulated error(y) " << largest_gap << " ("
            << gap_case << "); largest emulated error / bound " << tightest << "\n";
  EXPECT_LT(largest_bound_y, 16 * u) << largest_case;
  EXPECT_LT(largest_gap, 32.0) << gap_case;
  EXPECT_GT(tightest, 0.5);  // somewhere the bound is nearly reached
}

// In how many cases (of those of `only`, when given) a wrong emulation leaves the bound somewhere.
int cases_outside(DType dtype, const Rounding& wrong, const Cell* only) {
  int outside = 0;
  for (const Swept& c : sweep(dtype)) {
    if (only != nullptr && c.k.cfg.cell != *only) continue;
    if (check(emulate<double>(c.k, wrong, false), c.bounded).outside > 0) ++outside;
  }
  return outside;
}

}  // namespace

TEST(ReferenceBound, ExactPartIsForwardBitForBit) {
  for (DType dtype : {DType::bf16, DType::f16}) {
    for (const Swept& c : sweep(dtype)) {
      const Case& k = c.k;
      const BoundedResult& br = c.bounded;
      const Result ref = gpurnn_ref::forward(k.cfg, k.params, k.x, k.T, k.B, k.lengths, k.h0p(), k.c0p(), k.scale());
      ASSERT_EQ(br.exact.y, ref.y) << describe(k);
      ASSERT_EQ(br.exact.hn, ref.hn) << describe(k);
      ASSERT_EQ(br.exact.cn, ref.cn) << describe(k);
      ASSERT_EQ(br.bound.y.size(), ref.y.size());
      ASSERT_EQ(br.bound.hn.size(), ref.hn.size());
      ASSERT_EQ(br.bound.cn.size(), ref.cn.size());
      for (double e : br.bound.hn) ASSERT_TRUE(std::isfinite(e) && e > 0.0) << describe(k);
      for (double e : br.bound.cn) ASSERT_TRUE(std::isfinite(e) && e > 0.0) << describe(k);
      // Past each length: y is exactly 0, so no error is allowed there; elsewhere some is.
      const int width = (k.cfg.bidirectional ? 2 : 1) * (k.cfg.proj_size > 0 ? k.cfg.proj_size : k.cfg.hidden_size);
      for (int t = 0; t < k.T; ++t) {
        for (int b = 0; b < k.B; ++b) {
          for (int j = 0; j < width; ++j) {
            const std::size_t at = sz((static_cast<long long>(t) * k.B + b) * width + j);
            if (t >= k.lengths[sz(b)]) ASSERT_EQ(br.bound.y[at], 0.0) << describe(k);
            else ASSERT_GT(br.bound.y[at], 0.0) << describe(k);
          }
        }
      }
      EXPECT_EQ(gpurnn_ref::bound_violations(br.exact, br), "");
    }
  }
}

TEST(ReferenceBound, HoldsForTheRuleEmulatedBf16) { expect_rule_within_bound(DType::bf16); }

TEST(ReferenceBound, HoldsForTheRuleEmulatedF16) { expect_rule_within_bound(DType::f16); }

TEST(ReferenceBound, HoldsWhenSaturatedOrTiny) {
  // Large weights (saturated gates, large pre-activations, second-order terms, relu growing) and
  // tiny values (f16 subnormals): the bound holds, however loose it gets.
  Shapes saturated;
  saturated.gain = 3.0;
  Shapes tiny;
  tiny.gain = 0.05;
  tiny.input_gain = 1e-4;
  for (Shapes* shapes : {&saturated, &tiny}) {
    shapes->max_H = 16;
    shapes->max_T = 8;
  }
  for (DType dtype : {DType::bf16, DType::f16}) {
    std::mt19937_64 rng(dtype == DType::bf16 ? 77u : 88u);
    for (const Shapes& shapes : {saturated, tiny}) {
      for (int n = 0; n < 10; ++n) {
        for (Cell cell : kCells) {
          const Case k = random_case(rng, cell, dtype, shapes);
          const BoundedResult br = bound_of(k, dtype);
          EXPECT_EQ(check(emulate<double>(k, by_the_rule(dtype), false), br).outside, 0) << describe(k);
          EXPECT_EQ(check(emulate<float>(k, by_the_rule(dtype), true, true), br).outside, 0) << describe(k);
          EXPECT_EQ(check(emulate<double>(k, at_full_u(dtype, true), false), br).outside, 0) << describe(k);
        }
      }
    }
  }
}

TEST(ReferenceBound, CatchesAFourTimesCoarserRounding) {
  for (DType dtype : {DType::bf16, DType::f16}) {
    Rounding wrong;
    const int bits = precision_of(dtype) - 2;  // u * 4, for h, m, the next layer's input, cn
    wrong.out = [bits](double v) { return round_bits(v, bits); };
    const int outside = cases_outside(dtype, wrong, nullptr);
    std::cout << "[ bound    ] " << gpurnn::to_string(dtype) << ": rounding with 4u leaves the bound in " << outside
              << " of " << kCasesPerCell * 5 << " cases\n";
    EXPECT_GT(outside, kCasesPerCell * 5 * 4 / 5);
  }
}

TEST(ReferenceBound, CatchesCRoundedEveryStep) {
  const Cell lstm = Cell::lstm;
  for (DType dtype : {DType::bf16, DType::f16}) {
    Rounding coarse = by_the_rule(dtype);
    const int bits = precision_of(dtype) - 3;  // u * 8, on c after every step
    coarse.c_step = [bits](double v) { return round_bits(v, bits); };
    Rounding to_d = by_the_rule(dtype);  // c rounded to D itself after every step
    to_d.c_step = [dtype](double v) { return to_half(v, dtype); };
    const int outside_coarse = cases_outside(dtype, coarse, &lstm);
    const int outside_d = cases_outside(dtype, to_d, &lstm);
    std::cout << "[ bound    ] " << gpurnn::to_string(dtype) << ": c rounded every step leaves the bound in "
              << outside_coarse << " (with 8u), " << outside_d << " (to D) of " << kCasesPerCell << " lstm cases\n";
    EXPECT_GT(outside_coarse, kCasesPerCell * 4 / 5);
    EXPECT_GT(outside_d, 0);
  }
}

TEST(ReferenceBound, OneStepByHand) {
  // rnn_tanh, one unit, one step from h0 = 0, no bias: a = 0.5 * 1 (+ 0.25 * 0), h = round_D(tanh(a)).
  const Config cfg{Cell::rnn_tanh, 1, 1, 1, false, false, 0};
  Params params(1);
  params[0].w_ih = {0.5};
  params[0].w_hh = {0.25};
  const std::vector<double> x = {1.0};
  for (DType dtype : {DType::bf16, DType::f16}) {
    const HalfRule rule = gpurnn_ref::half_rule(gpurnn::unit_roundoff(dtype));
    const BoundedResult br = gpurnn_ref::forward_bound(cfg, params, x, 1, 1, {1}, nullptr, nullptr, rule);
    ASSERT_EQ(br.bound.y.size(), 1u);
    EXPECT_EQ(br.exact.y[0], std::tanh(0.5));
    // The derivation's terms: the f32 sum of 2 products (gamma_2 times |0.5*1| + |0.25*0|); tanh
    // with its slope over [0.5 - d, 0.5 + d] and its f32 error, (A) componentwise and (B) affine
    // (tanh'(0.5) d plus the smaller rest), the smaller of the two; then the rounding to D. The
    // reference's own slack (2^-50) included.
    const double rel = rule.u32 + 0x1p-50;
    const double d = 2 * rel / (1 - 2 * rel) * 0.5 + 2 * rule.eta32;
    auto slope = [](double m) { return 1.0 / std::pow(std::cosh(m), 2); };
    const double lmax = slope(0.5 - d), lmin = slope(0.5 + d), mid = (lmax + lmin) / 2;
    const double t = std::tanh(0.5);
    const double eval = (rule.act_rel + 0x1p-50) * (t + lmax * d) + rule.act_abs;
    const double componentwise = lmax * d + eval;
    const double affine = std::min(mid * d + (lmax - mid) * d, slope(0.5) * d + 0.5 * 0.7699 * d * d) + eval;
    const double e_tanh = std::min(componentwise, affine);
    const double expected = e_tanh + rule.u * (t + e_tanh) + rule.eta;
    EXPECT_GE(br.bound.y[0], expected);
    EXPECT_NEAR(br.bound.y[0], expected, 1e-10 * expected);
    EXPECT_EQ(br.bound.hn, br.bound.y);
    // Mostly the one rounding to D: u * tanh(0.5), which the rule's rounding nearly reaches.
    EXPECT_LT(br.bound.y[0], rule.u * t * 1.01);
    EXPECT_LE(std::fabs(to_half(t, dtype) - t), br.bound.y[0]);
  }
}

TEST(ReferenceBound, RuleOfEachHalfDtype) {
  EXPECT_EQ(gpurnn_ref::half_rule(gpurnn::unit_roundoff(DType::bf16)).precision, 8);
  EXPECT_EQ(gpurnn_ref::half_rule(gpurnn::unit_roundoff(DType::f16)).precision, 11);
  EXPECT_THROW(gpurnn_ref::half_rule(gpurnn::unit_roundoff(DType::f32)), std::invalid_argument);
  const HalfRule bf = gpurnn_ref::bf16_rule(), f = gpurnn_ref::f16_rule();
  EXPECT_TRUE(gpurnn_ref::representable(1.0 + 0x1p-7, bf));
  EXPECT_FALSE(gpurnn_ref::representable(1.0 + 0x1p-8, bf));
  EXPECT_TRUE(gpurnn_ref::representable(0x1p-133, bf));  // bf16's smallest subnormal
  EXPECT_FALSE(gpurnn_ref::representable(0x1p-134, bf));
  EXPECT_TRUE(gpurnn_ref::representable(1.0 + 0x1p-10, f));
  EXPECT_FALSE(gpurnn_ref::representable(1.0 + 0x1p-11, f));
  EXPECT_TRUE(gpurnn_ref::representable(3 * 0x1p-24, f));  // f16 subnormals
  EXPECT_FALSE(gpurnn_ref::representable(0x1p-25, f));
  EXPECT_TRUE(gpurnn_ref::representable(-65504.0, f));
  EXPECT_FALSE(gpurnn_ref::representable(65536.0, f));
  EXPECT_FALSE(gpurnn_ref::representable(NAN, f));
  // Agrees with the library's storage types on what they round to.
  std::mt19937_64 rng(7);
  for (int n = 0; n < 2000; ++n) {
    const double v = std::ldexp(std::uniform_real_distribution<double>(-1.0, 1.0)(rng), static_cast<int>(rng() % 40) - 30);
    EXPECT_TRUE(gpurnn_ref::representable(to_half(v, DType::bf16), bf));
    EXPECT_TRUE(gpurnn_ref::representable(to_half(v, DType::f16), f));
    EXPECT_EQ(gpurnn_ref::representable(v, f), to_half(v, DType::f16) == v);
  }
}

TEST(ReferenceBound, RefusesInputsThatAreNotHalfValues) {
  std::mt19937_64 rng(3);
  Case k = random_case(rng, Cell::gru, DType::bf16);
  EXPECT_NO_THROW(bound_of(k, DType::bf16));
  k.x[0] = 0.1;  // not a bf16 value
  EXPECT_THROW(bound_of(k, DType::bf16), std::invalid_argument);
}

TEST(ReferenceBound, ViolationsAreNamed) {
  std::mt19937_64 rng(11);
  const Case k = random_case(rng, Cell::lstm, DType::f16);
  const BoundedResult br = bound_of(k, DType::f16);
  EXPECT_EQ(gpurnn_ref::bound_violations(br.exact, br), "");
  Result off = br.exact;
  off.cn[0] += 2.0 * br.bound.cn[0];
  const std::string text = gpurnn_ref::bound_violations(off, br);
  EXPECT_NE(text.find("cn: 1 of"), std::string::npos) << text;
  off.y.pop_back();
  EXPECT_NE(gpurnn_ref::bound_violations(off, br).find("y: size"), std::string::npos);
}
