// Tests of the naive reference implementation itself against values computed by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <vector>

#include "reference/naive_rnn.h"

using gpurnn_ref::Cell;
using gpurnn_ref::Config;
using gpurnn_ref::LayerParams;
using gpurnn_ref::Params;

namespace {

constexpr double kTol = 1e-12;

double sig(double v) { return 1.0 / (1.0 + std::exp(-v)); }

// Deterministic pseudo-random values in [-0.5, 0.5).
std::vector<double> seq(std::size_t n, unsigned seed) {
  std::vector<double> v(n);
  unsigned s = seed * 2654435761u + 12345u;
  for (auto& e : v) {
    s = s * 1103515245u + 12345u;
    e = static_cast<double>((s >> 8) % 10000u) / 10000.0 - 0.5;
  }
  return v;
}

// Params with deterministic values for every layer and direction.
Params make_params(const Config& c, unsigned seed) {
  const int G = c.cell == Cell::lstm ? 4 : (c.cell == Cell::gru ? 3 : 1);
  const int D = c.bidirectional ? 2 : 1;
  const int ho = c.proj_size > 0 ? c.proj_size : c.hidden_size;
  const std::size_t gh = static_cast<std::size_t>(G * c.hidden_size);
  Params p;
  for (int l = 0; l < c.num_layers; ++l) {
    const std::size_t in = static_cast<std::size_t>(l == 0 ? c.input_size : D * ho);
    for (int d = 0; d < D; ++d) {
      LayerParams lp;
      lp.w_ih = seq(gh * in, seed++);
      lp.w_hh = seq(gh * static_cast<std::size_t>(ho), seed++);
      if (c.bias) lp.b_ih = seq(gh, seed++), lp.b_hh = seq(gh, seed++);
      if (c.proj_size > 0) lp.w_hr = seq(static_cast<std::size_t>(ho * c.hidden_size), seed++);
      p.push_back(lp);
    }
  }
  return p;
}

}  // namespace

TEST(NaiveReference, VanillaOneUnitTwoStepsByHand) {
  const double wih = 0.5, whh = -0.3, bih = 0.1, bhh = 0.2, h0v = 0.4;
  const std::vector<double> x = {1.0, -2.0};
  const std::vector<double> h0 = {h0v};
  Params p = {LayerParams{{wih}, {whh}, {bih}, {bhh}, {}}};
  for (Cell cell : {Cell::rnn_tanh, Cell::rnn_relu, Cell::rnn_sigmoid}) {
    auto act = [cell](double v) {
      if (cell == Cell::rnn_tanh) return std::tanh(v);
      if (cell == Cell::rnn_relu) return v > 0.0 ? v : 0.0;
      return sig(v);
    };
    const double h1 = act(wih * x[0] + bih + whh * h0v + bhh);
    const double h2 = act(wih * x[1] + bih + whh * h1 + bhh);
    Config c{cell, 1, 1, 1, false, true, 0};
    auto r = gpurnn_ref::forward(c, p, x, 2, 1, {2}, &h0, nullptr);
    ASSERT_EQ(r.y.size(), 2u);
    ASSERT_EQ(r.hn.size(), 1u);
    EXPECT_TRUE(r.cn.empty());
    EXPECT_NEAR(r.y[0], h1, kTol);
    EXPECT_NEAR(r.y[1], h2, kTol);
    EXPECT_NEAR(r.hn[0], h2, kTol);
  }
  // Sanity on the hand formula for tanh: h1 = tanh(0.5 + 0.1 - 0.12 + 0.2) = tanh(0.68).
  Config c{Cell::rnn_tanh, 1, 1, 1, false, true, 0};
  EXPECT_NEAR(gpurnn_ref::forward(c, p, x, 2, 1, {2}, &h0, nullptr).y[0], std::tanh(0.68), kTol);
}

TEST(NaiveReference, LstmOneUnitOneStepByHand) {
  // Gate rows i, f, g, o.
  LayerParams lp{{0.1, 0.2, 0.3, 0.4}, {-0.5, 0.6, -0.7, 0.8}, {0.01, 0.02, 0.03, 0.04},
                 {0.05, -0.06, 0.07, -0.08}, {}};
  const double x = 0.9, h = -0.3, c = 0.25;
  const double i = sig(0.1 * x + 0.01 + -0.5 * h + 0.05);
  const double f = sig(0.2 * x + 0.02 + 0.6 * h - 0.06);
  const double g = std::tanh(0.3 * x + 0.03 + -0.7 * h + 0.07);
  const double o = sig(0.4 * x + 0.04 + 0.8 * h - 0.08);
  const double c1 = f * c + i * g;
  const double h1 = o * std::tanh(c1);
  Config cfg{Cell::lstm, 1, 1, 1, false, true, 0};
  std::vector<double> h0 = {h}, c0 = {c};
  auto r = gpurnn_ref::forward(cfg, {lp}, {x}, 1, 1, {1}, &h0, &c0);
  ASSERT_EQ(r.cn.size(), 1u);
  EXPECT_NEAR(r.y[0], h1, kTol);
  EXPECT_NEAR(r.hn[0], h1, kTol);
  EXPECT_NEAR(r.cn[0], c1, kTol);
  // Null h0/c0 means zeros.
  const double iz = sig(0.1 * x + 0.01 + 0.05), gz = std::tanh(0.3 * x + 0.03 + 0.07);
  const double oz = sig(0.4 * x + 0.04 - 0.08);
  auto rz = gpurnn_ref::forward(cfg, {lp}, {x}, 1, 1, {1}, nullptr, nullptr);
  EXPECT_NEAR(rz.cn[0], iz * gz, kTol);
  EXPECT_NEAR(rz.hn[0], oz * std::tanh(iz * gz), kTol);
}

TEST(NaiveReference, GruOneUnitOneStepByHand) {
  // Gate rows r, z, n.
  LayerParams lp{{0.3, -0.2, 0.5}, {0.4, 0.1, -0.6}, {0.05, 0.1, -0.05}, {-0.1, 0.2, 0.15}, {}};
  const double x = -0.7, h = 0.6;
  const double r = sig(0.3 * x + 0.05 + 0.4 * h - 0.1);
  const double z = sig(-0.2 * x + 0.1 + 0.1 * h + 0.2);
  const double n = std::tanh(0.5 * x - 0.05 + r * (-0.6 * h + 0.15));
  const double h1 = (1.0 - z) * n + z * h;
  Config cfg{Cell::gru, 1, 1, 1, false, true, 0};
  std::vector<double> h0 = {h};
  auto res = gpurnn_ref::forward(cfg, {lp}, {x}, 1, 1, {1}, &h0, nullptr);
  EXPECT_NEAR(res.y[0], h1, kTol);
  EXPECT_NEAR(res.hn[0], h1, kTol);
  EXPECT_TRUE(res.cn.empty());
}

TEST(NaiveReference, RaggedLengthsZeroPaddingAndFinalState) {
  for (Cell cell : {Cell::rnn_tanh, Cell::lstm, Cell::gru}) {
    const int T = 4, B = 3, I = 2, H = 3, D = 2;
    Config c{cell, I, H, 2, true, true, 0};
    Params p = make_params(c, 7);
    const std::vector<int> len = {2, 4, 1};
    auto x = seq(static_cast<std::size_t>(T * B * I), 99);
    auto h0 = seq(static_cast<std::size_t>(2 * D * B * H), 5);
    auto r = gpurnn_ref::forward(c, p, x, T, B, len, &h0, cell == Cell::lstm ? &h0 : nullptr);
    ASSERT_EQ(r.y.size(), static_cast<std::size_t>(T * B * D * H));
    for (int b = 0; b < B; ++b) {
      for (int t = 0; t < T; ++t) {
        for (int j = 0; j < D * H; ++j) {
          const double v = r.y[static_cast<std::size_t>((t * B + b) * D * H + j)];
          if (t >= len[static_cast<std::size_t>(b)]) EXPECT_EQ(v, 0.0);
          else EXPECT_NE(v, 0.0);
        }
      }
      const int last = len[static_cast<std::size_t>(b)] - 1;
      for (int j = 0; j < H; ++j) {
        // Last layer (l = 1): forward hn is y at the last valid step, reverse hn is y at t = 0.
        const double fwd_hn = r.hn[static_cast<std::size_t>(((1 * D + 0) * B + b) * H + j)];
        const double rev_hn = r.hn[static_cast<std::size_t>(((1 * D + 1) * B + b) * H + j)];
        EXPECT_NEAR(fwd_hn, r.y[static_cast<std::size_t>((last * B + b) * D * H + j)], kTol);
        EXPECT_NEAR(rev_hn, r.y[static_cast<std::size_t>((0 * B + b) * D * H + H + j)], kTol);
      }
    }
    // Batch elements are independent: element 2 (length 1) alone with T = 1 gives the same.
    std::vector<double> x2(x.begin() + 2 * I, x.begin() + 3 * I), h02;
    for (int s = 0; s < 2 * D; ++s)
      for (int j = 0; j < H; ++j) h02.push_back(h0[static_cast<std::size_t>((s * B + 2) * H + j)]);
    auto r2 = gpurnn_ref::forward(c, p, x2, 1, 1, {1}, &h02, cell == Cell::lstm ? &h02 : nullptr);
    for (int j = 0; j < D * H; ++j)
      EXPECT_NEAR(r2.y[static_cast<std::size_t>(j)],
                  r.y[static_cast<std::size_t>((0 * B + 2) * D * H + j)], kTol);
  }
}

TEST(NaiveReference, ReverseOfLengthOneEqualsForward) {
  for (Cell cell : {Cell::rnn_sigmoid, Cell::lstm, Cell::gru}) {
    const int T = 3, B = 2, I = 3, H = 2;
    Config c{cell, I, H, 1, true, true, 0};
    Params p = make_params(c, 11);
    p[1] = p[0];  // same weights for both directions
    auto x = seq(static_cast<std::size_t>(T * B * I), 3);
    auto r = gpurnn_ref::forward(c, p, x, T, B, {1, 1}, nullptr, nullptr);
    for (int b = 0; b < B; ++b) {
      for (int j = 0; j < H; ++j) {
        const std::size_t base = static_cast<std::size_t>(b * 2 * H);
        EXPECT_NE(r.y[base + static_cast<std::size_t>(j)], 0.0);
        EXPECT_NEAR(r.y[base + static_cast<std::size_t>(j)],
                    r.y[base + static_cast<std::size_t>(H + j)], kTol);
        EXPECT_NEAR(r.hn[static_cast<std::size_t>(b * H + j)],
                    r.hn[static_cast<std::size_t>((B + b) * H + j)], kTol);
      }
    }
  }
}

TEST(NaiveReference, IdentityProjectionEqualsNoProjection) {
  const int T = 3, B = 2, I = 2, H = 3;
  Config plain{Cell::lstm, I, H, 2, true, true, 0};
  Config proj = plain;
  proj.proj_size = H;
  Params p = make_params(plain, 21);
  for (auto& lp : p) {
    lp.w_hr.assign(static_cast<std::size_t>(H * H), 0.0);
    for (int k = 0; k < H; ++k) lp.w_hr[static_cast<std::size_t>(k * H + k)] = 1.0;
  }
  Params p_plain = make_params(plain, 21);
  auto x = seq(static_cast<std::size_t>(T * B * I), 8);
  auto a = gpurnn_ref::forward(plain, p_plain, x, T, B, {3, 2}, nullptr, nullptr);
  auto b = gpurnn_ref::forward(proj, p, x, T, B, {3, 2}, nullptr, nullptr);
  ASSERT_EQ(a.y.size(), b.y.size());
  ASSERT_EQ(a.hn.size(), b.hn.size());
  ASSERT_EQ(a.cn.size(), b.cn.size());
  for (std::size_t k = 0; k < a.y.size(); ++k) EXPECT_NEAR(a.y[k], b.y[k], kTol);
  for (std::size_t k = 0; k < a.hn.size(); ++k) EXPECT_NEAR(a.hn[k], b.hn[k], kTol);
  for (std::size_t k = 0; k < a.cn.size(); ++k) EXPECT_NEAR(a.cn[k], b.cn[k], kTol);
}

TEST(NaiveReference, ProjectionOneStepByHand) {
  // H = 2, H_out = 1: h' = W_hr m with W_hr = [0.7, -1.3]; zero initial state, so W_hh is unused.
  LayerParams lp{{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8}, std::vector<double>(8, 0.9), {}, {},
                 {0.7, -1.3}};
  Config cfg{Cell::lstm, 1, 2, 1, false, false, 1};
  const double x = 0.5;
  double m[2], cc[2];
  for (int j = 0; j < 2; ++j) {
    const double i = sig(lp.w_ih[static_cast<std::size_t>(j)] * x);
    const double g = std::tanh(lp.w_ih[static_cast<std::size_t>(4 + j)] * x);
    const double o = sig(lp.w_ih[static_cast<std::size_t>(6 + j)] * x);
    cc[j] = i * g;
    m[j] = o * std::tanh(cc[j]);
  }
  auto r = gpurnn_ref::forward(cfg, {lp}, {x}, 1, 1, {1}, nullptr, nullptr);
  ASSERT_EQ(r.y.size(), 1u);
  ASSERT_EQ(r.cn.size(), 2u);
  EXPECT_NEAR(r.y[0], 0.7 * m[0] - 1.3 * m[1], kTol);
  EXPECT_NEAR(r.cn[0], cc[0], kTol);
  EXPECT_NEAR(r.cn[1], cc[1], kTol);
}

TEST(NaiveReference, NoBiasEqualsZeroBias) {
  Config with{Cell::gru, 2, 3, 2, false, true, 0};
  Config without = with;
  without.bias = false;
  Params pz = make_params(with, 4), pn = pz;
  for (auto& lp : pz) std::fill(lp.b_ih.begin(), lp.b_ih.end(), 0.0),
                      std::fill(lp.b_hh.begin(), lp.b_hh.end(), 0.0);
  for (auto& lp : pn) lp.b_ih.clear(), lp.b_hh.clear();
  auto x = seq(12, 2);
  auto a = gpurnn_ref::forward(with, pz, x, 3, 2, {3, 3}, nullptr, nullptr);
  auto b = gpurnn_ref::forward(without, pn, x, 3, 2, {3, 3}, nullptr, nullptr);
  for (std::size_t k = 0; k < a.y.size(); ++k) EXPECT_NEAR(a.y[k], b.y[k], kTol);
}

TEST(NaiveReference, DropoutScalesInterLayerInput) {
  const int T = 2, B = 2, I = 2, H = 2;
  Config c{Cell::rnn_tanh, I, H, 2, false, true, 0};
  Params p = make_params(c, 31);
  auto x = seq(static_cast<std::size_t>(T * B * I), 17);
  // Dropping everything: layer 1 sees zero input, i.e. a 1-layer net with layer-1 weights on x = 0.
  auto drop_all = [](int, int, int, int) { return 0.0; };
  auto r = gpurnn_ref::forward(c, p, x, T, B, {2, 2}, nullptr, nullptr, drop_all);
  Config c1{Cell::rnn_tanh, H, H, 1, false, true, 0};
  auto r1 = gpurnn_ref::forward(c1, {p[1]}, std::vector<double>(T * B * H, 0.0), T, B, {2, 2},
                                nullptr, nullptr);
  for (std::size_t k = 0; k < r.y.size(); ++k) EXPECT_NEAR(r.y[k], r1.y[k], kTol);
  // A factor of 1 everywhere equals no dropout; a factor of 2 changes the result.
  auto none = gpurnn_ref::forward(c, p, x, T, B, {2, 1}, nullptr, nullptr);
  auto ones = gpurnn_ref::forward(c, p, x, T, B, {2, 1}, nullptr, nullptr,
                                  [](int, int, int, int) { return 1.0; });
  auto twos = gpurnn_ref::forward(c, p, x, T, B, {2, 1}, nullptr, nullptr,
                                  [](int, int, int, int) { return 2.0; });
  for (std::size_t k = 0; k < none.y.size(); ++k) EXPECT_NEAR(none.y[k], ones.y[k], kTol);
  EXPECT_GT(std::fabs(none.y[0] - twos.y[0]), 1e-6);
}

TEST(NaiveReference, ThrowsOnInconsistentSizes) {
  Config c{Cell::lstm, 2, 3, 1, false, true, 0};
  Params p = make_params(c, 1);
  auto x = seq(2 * 2 * 2, 1);
  EXPECT_NO_THROW(gpurnn_ref::forward(c, p, x, 2, 2, {2, 1}, nullptr, nullptr));
  EXPECT_THROW(gpurnn_ref::forward(c, p, x, 2, 2, {0, 1}, nullptr, nullptr), std::invalid_argument);
  EXPECT_THROW(gpurnn_ref::forward(c, p, x, 2, 2, {3, 1}, nullptr, nullptr), std::invalid_argument);
  EXPECT_THROW(gpurnn_ref::forward(c, p, x, 2, 2, {2}, nullptr, nullptr), std::invalid_argument);
  EXPECT_THROW(gpurnn_ref::forward(c, p, seq(7, 1), 2, 2, {2, 1}, nullptr, nullptr),
               std::invalid_argument);
  std::vector<double> bad_h0(5, 0.0);
  EXPECT_THROW(gpurnn_ref::forward(c, p, x, 2, 2, {2, 1}, &bad_h0, nullptr), std::invalid_argument);
  EXPECT_THROW(gpurnn_ref::forward(c, p, x, 2, 2, {2, 1}, nullptr, &bad_h0), std::invalid_argument);
  Params bad = p;
  bad[0].w_ih.pop_back();
  EXPECT_THROW(gpurnn_ref::forward(c, bad, x, 2, 2, {2, 1}, nullptr, nullptr), std::invalid_argument);
  bad = p;
  bad[0].b_hh.clear();
  EXPECT_THROW(gpurnn_ref::forward(c, bad, x, 2, 2, {2, 1}, nullptr, nullptr), std::invalid_argument);
  bad = p;
  bad.push_back(p[0]);
  EXPECT_THROW(gpurnn_ref::forward(c, bad, x, 2, 2, {2, 1}, nullptr, nullptr), std::invalid_argument);
  Config gru_proj{Cell::gru, 2, 3, 1, false, true, 1};
  EXPECT_THROW(gpurnn_ref::forward(gru_proj, make_params(gru_proj, 1), x, 2, 2, {2, 1}, nullptr,
                                   nullptr),
               std::invalid_argument);
}
