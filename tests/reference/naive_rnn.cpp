// Deliberately naive reference implementation; see naive_rnn.h.
// Every batch element is processed on its own over exactly its own length (packed-sequence
// semantics), with plain loops and double precision throughout.
#include "naive_rnn.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <sstream>
#include <stdexcept>
#include <string>

#include "naive_rnn_bound.h"

namespace gpurnn_ref {
namespace {

void require(bool condition, const std::string& message) {
  if (!condition) throw std::invalid_argument("gpurnn_ref::forward: " + message);
}

int num_gates(Cell cell) {
  switch (cell) {
    case Cell::lstm: return 4;
    case Cell::gru: return 3;
    default: return 1;
  }
}

double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

double activation(Cell cell, double v) {
  switch (cell) {
    case Cell::rnn_tanh: return std::tanh(v);
    case Cell::rnn_relu: return v > 0.0 ? v : 0.0;
    case Cell::rnn_sigmoid: return sigmoid(v);
    default: throw std::invalid_argument("gpurnn_ref: activation() called for a gated cell");
  }
}

std::size_t sz(long long v) { return static_cast<std::size_t>(v); }

// out[r] = sum_k w[r, k] * v[k] + (bias.empty() ? 0 : bias[r]), w is [rows, cols] row-major.
std::vector<double> affine(const std::vector<double>& w, const std::vector<double>& bias, int rows,
                           int cols, const std::vector<double>& v) {
  std::vector<double> out(sz(rows), 0.0);
  for (int r = 0; r < rows; ++r) {
    double acc = bias.empty() ? 0.0 : bias[sz(r)];
    for (int k = 0; k < cols; ++k) acc += w[sz(static_cast<long long>(r) * cols + k)] * v[sz(k)];
    out[sz(r)] = acc;
  }
  return out;
}

// One time step of one cell. x has in_size elements, h has h_out elements (updated in place),
// c has H elements (LSTM only, updated in place).
void cell_step(const Config& cfg, const LayerParams& p, int in_size, const std::vector<double>& x,
               std::vector<double>& h, std::vector<double>& c) {
  const int H = cfg.hidden_size;
  const int h_out = cfg.proj_size > 0 ? cfg.proj_size : H;
  const int G = num_gates(cfg.cell);
  // gi = W_ih x + b_ih, gh = W_hh h + b_hh, both [G*H].
  const std::vector<double> gi = affine(p.w_ih, p.b_ih, G * H, in_size, x);
  const std::vector<double> gh = affine(p.w_hh, p.b_hh, G * H, h_out, h);

  if (cfg.cell == Cell::lstm) {
    std::vector<double> m(sz(H));
    for (int j = 0; j < H; ++j) {
      const double i_gate = sigmoid(gi[sz(0 * H + j)] + gh[sz(0 * H + j)]);
      const double f_gate = sigmoid(gi[sz(1 * H + j)] + gh[sz(1 * H + j)]);
      const double g_gate = std::tanh(gi[sz(2 * H + j)] + gh[sz(2 * H + j)]);
      const double o_gate = sigmoid(gi[sz(3 * H + j)] + gh[sz(3 * H + j)]);
      c[sz(j)] = f_gate * c[sz(j)] + i_gate * g_gate;
      m[sz(j)] = o_gate * std::tanh(c[sz(j)]);
    }
    if (cfg.proj_size > 0) {
      h = affine(p.w_hr, std::vector<double>(), h_out, H, m);
    } else {
      h = m;
    }
  } else if (cfg.cell == Cell::gru) {
    std::vector<double> h_new(sz(H));
    for (int j = 0; j < H; ++j) {
      const double r = sigmoid(gi[sz(0 * H + j)] + gh[sz(0 * H + j)]);
      const double z = sigmoid(gi[sz(1 * H + j)] + gh[sz(1 * H + j)]);
      const double n = std::tanh(gi[sz(2 * H + j)] + r * gh[sz(2 * H + j)]);
      h_new[sz(j)] = (1.0 - z) * n + z * h[sz(j)];
    }
    h = h_new;
  } else {
    for (int j = 0; j < H; ++j) h[sz(j)] = activation(cfg.cell, gi[sz(j)] + gh[sz(j)]);
  }
}

void validate(const Config& cfg, const Params& params, const std::vector<double>& x, int T, int B,
              const std::vector<int>& lengths, const std::vector<double>* h0,
              const std::vector<double>* c0) {
  require(cfg.input_size > 0, "input_size must be positive");
  require(cfg.hidden_size > 0, "hidden_size must be positive");
  require(cfg.num_layers > 0, "num_layers must be positive");
  require(cfg.proj_size >= 0, "proj_size must be non-negative");
  require(cfg.proj_size == 0 || cfg.cell == Cell::lstm, "proj_size is only supported for lstm");
  require(T > 0, "T must be positive");
  require(B >= 0, "B must be non-negative");

  const int D = cfg.bidirectional ? 2 : 1;
  const int H = cfg.hidden_size;
  const int h_out = cfg.proj_size > 0 ? cfg.proj_size : H;
  const int G = num_gates(cfg.cell);
  const long long LD = static_cast<long long>(cfg.num_layers) * D;

  require(params.size() == sz(LD), "params must have num_layers * D entries");
  for (int l = 0; l < cfg.num_layers; ++l) {
    const long long in_size = l == 0 ? cfg.input_size : static_cast<long long>(D) * h_out;
    for (int d = 0; d < D; ++d) {
      const LayerParams& p = params[sz(static_cast<long long>(l) * D + d)];
      const std::string where = " (layer " + std::to_string(l) + ", direction " +
                                std::to_string(d) + ")";
      require(p.w_ih.size() == sz(G * H * in_size), "w_ih has wrong size" + where);
      require(p.w_hh.size() == sz(static_cast<long long>(G) * H * h_out),
              "w_hh has wrong size" + where);
      const std::size_t bias_size = cfg.bias ? sz(static_cast<long long>(G) * H) : 0;
      require(p.b_ih.size() == bias_size, "b_ih has wrong size" + where);
      require(p.b_hh.size() == bias_size, "b_hh has wrong size" + where);
      const std::size_t hr_size = cfg.proj_size > 0 ? sz(static_cast<long long>(h_out) * H) : 0;
      require(p.w_hr.size() == hr_size, "w_hr has wrong size" + where);
    }
  }
  require(x.size() == sz(static_cast<long long>(T) * B * cfg.input_size), "x has wrong size");
  require(lengths.size() == sz(B), "lengths must have B entries");
  for (int b = 0; b < B; ++b) {
    require(lengths[sz(b)] >= 1 && lengths[sz(b)] <= T, "lengths must be in [1, T]");
  }
  if (h0 != nullptr) require(h0->size() == sz(LD * B * h_out), "h0 has wrong size");
  // c0 is only meaningful for lstm; for the other cells it is ignored.
  if (c0 != nullptr && cfg.cell == Cell::lstm) {
    require(c0->size() == sz(LD * B * H), "c0 has wrong size");
  }
}

}  // namespace

Result forward(const Config& cfg, const Params& params, const std::vector<double>& x, int T, int B,
               const std::vector<int>& lengths, const std::vector<double>* h0,
               const std::vector<double>* c0, const DropoutScale& dropout) {
  validate(cfg, params, x, T, B, lengths, h0, c0);

  const int D = cfg.bidirectional ? 2 : 1;
  const int H = cfg.hidden_size;
  const int h_out = cfg.proj_size > 0 ? cfg.proj_size : H;
  const bool is_lstm = cfg.cell == Cell::lstm;
  const long long LD = static_cast<long long>(cfg.num_layers) * D;

  Result result;
  result.hn.assign(sz(LD * B * h_out), 0.0);
  if (is_lstm) result.cn.assign(sz(LD * B * H), 0.0);

  // Input of the current layer, [T, B, in_size] time-major.
  std::vector<double> layer_in = x;
  int in_size = cfg.input_size;

  for (int l = 0; l < cfg.num_layers; ++l) {
    const int out_size = D * h_out;
    std::vector<double> layer_out(sz(static_cast<long long>(T) * B * out_size), 0.0);

    for (int d = 0; d < D; ++d) {
      const long long state = static_cast<long long>(l) * D + d;  // index into h0/c0/hn/cn
      const LayerParams& p = params[sz(state)];
      for (int b = 0; b < B; ++b) {
        const int len = lengths[sz(b)];
        // Initial state for this (layer, direction, batch element).
        std::vector<double> h(sz(h_out), 0.0);
        std::vector<double> c(sz(H), 0.0);
        for (int j = 0; j < h_out; ++j) {
          if (h0 != nullptr) h[sz(j)] = (*h0)[sz((state * B + b) * h_out + j)];
        }
        for (int j = 0; j < H; ++j) {
          if (is_lstm && c0 != nullptr) c[sz(j)] = (*c0)[sz((state * B + b) * H + j)];
        }
        // Walk this sequence over its own length only.
        for (int s = 0; s < len; ++s) {
          const int t = d == 0 ? s : len - 1 - s;
          std::vector<double> xt(sz(in_size));
          for (int k = 0; k < in_size; ++k) {
            xt[sz(k)] = layer_in[sz((static_cast<long long>(t) * B + b) * in_size + k)];
          }
          cell_step(cfg, p, in_size, xt, h, c);
          for (int j = 0; j < h_out; ++j) {
            layer_out[sz((static_cast<long long>(t) * B + b) * out_size + d * h_out + j)] = h[sz(j)];
          }
        }
        // Final state: after the last processed step (t = len-1 forward, t = 0 reverse).
        for (int j = 0; j < h_out; ++j) result.hn[sz((state * B + b) * h_out + j)] = h[sz(j)];
        if (is_lstm) {
          for (int j = 0; j < H; ++j) result.cn[sz((state * B + b) * H + j)] = c[sz(j)];
        }
      }
    }

    if (l == cfg.num_layers - 1) {
      result.y = layer_out;  // positions past each length were never written and stay zero
    } else {
      // Next layer's input, with dropout applied between layers (only at valid positions;
      // padded positions are zero anyway).
      if (dropout) {
        for (int t = 0; t < T; ++t) {
          for (int b = 0; b < B; ++b) {
            if (t >= lengths[sz(b)]) continue;
            for (int j = 0; j < out_size; ++j) {
              layer_out[sz((static_cast<long long>(t) * B + b) * out_size + j)] *=
                  dropout(l, t, b, j);
            }
          }
        }
      }
      layer_in = layer_out;
      in_size = out_size;
    }
  }
  return result;
}

// ---- The half-precision error bound (naive_rnn_bound.h) ----------------------------------------
// The same walk as forward(), every value carried with bounds on a backend's error; the values
// come from the same helpers and the same operations in the same order, so they are forward()'s.

HalfRule bf16_rule() {
  HalfRule r;
  r.u = 0x1p-8;
  r.eta = 0x1p-134;
  r.precision = 8;
  r.min_exponent = -126;
  r.max_finite = 0x1.fep127;
  return r;
}

HalfRule f16_rule() {
  HalfRule r;
  r.u = 0x1p-11;
  r.eta = 0x1p-25;
  r.precision = 11;
  r.min_exponent = -14;
  r.max_finite = 65504.0;
  return r;
}

HalfRule half_rule(double u) {
  if (u == 0x1p-8) return bf16_rule();
  if (u == 0x1p-11) return f16_rule();
  throw std::invalid_argument("gpurnn_ref::half_rule: u must be 2^-8 (bf16) or 2^-11 (f16)");
}

bool representable(double v, const HalfRule& rule) {
  if (!std::isfinite(v) || std::fabs(v) > rule.max_finite) return false;
  if (v == 0.0) return true;
  int e = 0;
  std::frexp(v, &e);  // |v| in [2^(e-1), 2^e)
  // The spacing of D's values at |v|: 2^(e-1 - (precision-1)), no finer than the subnormals'.
  const int quantum = std::max(e - 1, rule.min_exponent) - (rule.precision - 1);
  const double scaled = std::ldexp(v, -quantum);  // exact (a power-of-two scale of a double)
  return scaled == std::nearbyint(scaled);
}

namespace {

// The bound's own arithmetic on non-negative terms (sums and products, round to nearest) errs by
// far less than this factor; every bound it computes is inflated by it.
double up(double e) { return e * (1.0 + 0x1p-40); }
// forward() is itself f64: each of its operations (libm's exp and tanh included) within a few 2^-53.
constexpr double kReferenceRel = 0x1p-50;
// The symbols' coefficients are signed, so their rounding is bounded explicitly: each linear
// combination of them errs by at most this times the sum of the magnitudes it combines.
constexpr double kCoefRel = 0x1p-52;

double abs_sum(const std::vector<double>& v) {
  double s = 0.0;
  for (double a : v) s += std::fabs(a);
  return up(s);
}

// alpha * a + beta * b, the shorter one padded with zeros.
std::vector<double> combine(double alpha, const std::vector<double>& a, double beta, const std::vector<double>& b) {
  std::vector<double> r(std::max(a.size(), b.size()), 0.0);
  for (std::size_t k = 0; k < a.size(); ++k) r[k] = alpha * a[k];
  for (std::size_t k = 0; k < b.size(); ++k) r[k] += beta * b[k];
  return r;
}

// A quantity a backend computes, for one batch element:
//   v     its exact value (forward()'s);
//   e     a bound on |backend - v|;
//   sym, loc: backend - v = sum_k sym[k] eta_k + r with |r| <= loc, the eta_k in [-1, 1] being
//         fixed unknowns of the batch element (the errors of earlier steps, of any layer and
//         direction), srad = sum |sym[k]|.
struct Q {
  double v = 0.0;
  double e = 0.0;
  std::vector<double> sym;
  double loc = 0.0;
  double srad = 0.0;
};

struct Model {
  HalfRule rule;
  double rel;      // u32 plus the reference's own error
  double act_rel;  // the activations' relative error plus the reference's own error

  explicit Model(const HalfRule& r) : rule(r), rel(r.u32 + kReferenceRel), act_rel(r.act_rel + kReferenceRel) {}

  // gamma_K of the f32 (and f64) sums of K products, any order.
  double gamma(long long K) const {
    const double ku = static_cast<double>(K) * rel;
    if (!(ku < 0.5)) throw std::invalid_argument("gpurnn_ref::forward_bound: a GEMM is too long for the model");
    return ku / (1.0 - ku);
  }
  // The same for the bound's own sums of K signed coefficients.
  static double coef_gamma(long long K) {
    const double ku = static_cast<double>(K) * kCoefRel;
    return ku / (1.0 - ku);
  }
  // Both e and the affine form's radius bound the same error: keep the smaller. A quantity that
  // may leave f32's range (|v| + e, or `magnitude` for a sum's partial sums, past FLT_MAX), or
  // whose inputs may have, is unbounded: e = loc = inf, from then on for all that depends on it.
  static void settle(Q& q, double magnitude = 0.0) {
    q.e = up(q.e);
    q.loc = up(q.loc);
    q.srad = abs_sum(q.sym);
    const double radius = up(q.srad + q.loc);
    if (std::isnan(q.e) || std::isnan(radius)) return unbounded(q);
    q.e = std::min(q.e, radius);
    if (!(std::fabs(q.v) + q.e <= 0x1.fffffep127 && magnitude <= 0x1.fffffep127)) unbounded(q);
  }
  static void unbounded(Q& q) {
    q.e = q.loc = q.srad = INFINITY;
    q.sym.clear();
  }

  Q add(const Q& p, const Q& q) const {
    Q r;
    r.v = p.v + q.v;
    const double rounding = rel * (std::fabs(r.v) + p.e + q.e) + rule.eta32;
    r.e = p.e + q.e + rounding;
    r.sym = combine(1.0, p.sym, 1.0, q.sym);
    r.loc = p.loc + q.loc + rounding + kCoefRel * (p.srad + q.srad);
    settle(r);
    return r;
  }
  // (p + dp)(q + dq) - pq = p dq + q dp + dp dq: the first two linear in the symbols, the third
  // at most e_p e_q.
  Q mul(const Q& p, const Q& q) const {
    Q r;
    r.v = p.v * q.v;
    const double ap = std::fabs(p.v), aq = std::fabs(q.v);
    const double prop = ap * q.e + aq * p.e + p.e * q.e;
    const double rounding = rel * (std::fabs(r.v) + prop) + rule.eta32;
    r.e = prop + rounding;
    r.sym = combine(p.v, q.sym, q.v, p.sym);
    r.loc = ap * q.loc + aq * p.loc + p.e * q.e + rounding + kCoefRel * (ap * q.srad + aq * p.srad);
    settle(r);
    return r;
  }
  Q one_minus(const Q& z) const {
    Q r;
    r.v = 1.0 - z.v;
    const double rounding = rel * (std::fabs(r.v) + z.e) + rule.eta32;
    r.e = z.e + rounding;
    r.sym = combine(-1.0, z.sym, 0.0, {});
    r.loc = z.loc + rounding;
    settle(r);
    return r;
  }
  // v * scale (dropout): up to four f32 roundings (p, 1 - p, the scale 1/(1-p), the product).
  Q scaled(const Q& p, double scale) const {
    Q r;
    r.v = p.v * scale;
    const double a = std::fabs(scale);
    const double rounding = gamma(4) * (std::fabs(r.v) + a * p.e) + rule.eta32;
    r.e = a * p.e + rounding;
    r.sym = combine(scale, p.sym, 0.0, {});
    r.loc = a * p.loc + rounding + kCoefRel * a * p.srad;
    settle(r);
    return r;
  }
  // round_D of a value within e of v.
  Q to_half(const Q& p) const {
    Q r = p;
    if (!(std::fabs(p.v) + p.e <= rule.max_finite)) {  // may round to inf
      unbounded(r);
      return r;
    }
    const double rounding = rule.u * (std::fabs(p.v) + p.e) + rule.eta;
    r.e = p.e + rounding;
    r.loc = p.loc + rounding;
    settle(r);
    return r;
  }

  // f(a) for an activation whose slope lies in [lmin, lmax] over [a - e, a + e]: by the mean value
  // theorem f(a_b) - f(a) = s (a_b - a), s in [lmin, lmax] = mid +- half; `eval` the f32 error.
  // For a smooth f also Taylor's f(a_b) - f(a) = f'(a) (a_b - a) + r, |r| <= m2 e^2 / 2 with m2 >=
  // |f''| everywhere (slope = f'(a), within 2^-50); the form with the smaller rest is taken.
  Q activated(const Q& a, double f, double lmin, double lmax, double eval, double cap, double slope = 0.0,
              double m2 = INFINITY) const {
    Q r;
    r.v = f;
    if (!(a.e < INFINITY)) {  // the argument may be inf or NaN: so may the value
      unbounded(r);
      return r;
    }
    const double d = a.e;
    double mid = 0.5 * (lmin + lmax);
    double rest = std::max(lmax - mid, mid - lmin) * d;
    const double taylor = 0.5 * m2 * d * d + 0x1p-50 * slope * d;
    if (taylor < rest) {
      mid = slope;
      rest = taylor;
    }
    r.e = std::min(lmax * d + eval, cap);
    r.sym = combine(mid, a.sym, 0.0, {});
    r.loc = mid * a.loc + rest + eval + kCoefRel * mid * a.srad;
    settle(r);
    return r;
  }
  // The interval's points nearest to and farthest from 0, nudged outward (by more than their own
  // rounding) so that the slopes below, decreasing in them, are not misjudged.
  static double near0(const Q& a) {
    return std::max(0.0, std::fabs(a.v) - a.e - 0x1p-50 * (std::fabs(a.v) + a.e));
  }
  static double far0(const Q& a) { return (std::fabs(a.v) + a.e) * (1.0 + 0x1p-50); }
  static double sigmoid_slope(double m) {  // sigmoid'(m), m >= 0, without cancellation
    const double em = std::exp(-m);
    return em / ((1.0 + em) * (1.0 + em));
  }
  static double tanh_slope(double m) {  // tanh'(m) = 1 / cosh^2(m)
    const double ch = std::cosh(m);
    return 1.0 / (ch * ch);
  }
  Q sigmoid_of(const Q& a) const {
    const double f = sigmoid(a.v);
    const double lmax = up(sigmoid_slope(near0(a)));
    const double lmin = sigmoid_slope(far0(a)) * (1.0 - 0x1p-40);
    const double eval = act_rel * (std::fabs(f) + lmax * a.e) + rule.act_abs;
    // Both the backend's value and f lie in [0, 1], up to the evaluation error. |sigmoid''| <=
    // 1/(6 sqrt(3)) = 0.0962...
    return activated(a, f, lmin, lmax, eval, std::max(f, 1.0 - f) + act_rel + rule.act_abs,
                     sigmoid_slope(std::fabs(a.v)), 0.0963);
  }
  Q tanh_of(const Q& a) const {
    const double f = std::tanh(a.v);
    const double lmax = up(tanh_slope(near0(a)));
    const double lmin = tanh_slope(far0(a)) * (1.0 - 0x1p-40);
    const double eval = act_rel * (std::fabs(f) + lmax * a.e) + rule.act_abs;
    // |tanh''| <= 4/(3 sqrt(3)) = 0.7698...
    return activated(a, f, lmin, lmax, eval, 1.0 + std::fabs(f) + act_rel + rule.act_abs,
                     tanh_slope(std::fabs(a.v)), 0.7699);
  }
  // relu is exact in f32; (relu(a_b) - relu(a)) / (a_b - a) is 1, 0, or in [0, 1] when the
  // interval holds 0.
  Q relu_of(const Q& a) const {
    const double lmin = a.v - a.e > 0.0 ? 1.0 : 0.0;
    const double lmax = a.v + a.e < 0.0 ? 0.0 : 1.0;
    return activated(a, a.v > 0.0 ? a.v : 0.0, lmin, lmax, 0.0, INFINITY);
  }
  Q activation_of(Cell cell, const Q& a) const {
    switch (cell) {
      case Cell::rnn_tanh: return tanh_of(a);
      case Cell::rnn_relu: return relu_of(a);
      case Cell::rnn_sigmoid: return sigmoid_of(a);
      default: throw std::invalid_argument("gpurnn_ref: activation_of() called for a gated cell");
    }
  }
};

// One GEMM's rows over operands v (bounded by `in`): per row r of w [rows, cols],
//   prop = sum_k |w[r,k]| e_k           (the operands' errors, componentwise)
//   mag  = sum_k |w[r,k]| (|v_k| + e_k)  (what the f32 sum's error is relative to)
//   loc  = sum_k |w[r,k]| loc_k, crad = sum_k |w[r,k]| srad_k, sym = sum_k w[r,k] sym_k.
struct GemmRows {
  std::vector<double> prop, mag, loc, crad;
  std::vector<std::vector<double>> sym;
};

GemmRows gemm_rows(const std::vector<double>& w, int rows, int cols, const std::vector<Q>& in) {
  GemmRows g;
  g.prop.assign(sz(rows), 0.0);
  g.mag.assign(sz(rows), 0.0);
  g.loc.assign(sz(rows), 0.0);
  g.crad.assign(sz(rows), 0.0);
  g.sym.assign(sz(rows), std::vector<double>());
  std::size_t n = 0;
  for (const Q& q : in) n = std::max(n, q.sym.size());
  for (int r = 0; r < rows; ++r) {
    std::vector<double>& sym = g.sym[sz(r)];
    sym.assign(n, 0.0);
    for (int k = 0; k < cols; ++k) {
      const double wk = w[sz(static_cast<long long>(r) * cols + k)];
      const double a = std::fabs(wk);
      const Q& q = in[sz(k)];
      g.prop[sz(r)] += a * q.e;
      g.mag[sz(r)] += a * (std::fabs(q.v) + q.e);
      g.loc[sz(r)] += a * q.loc;
      g.crad[sz(r)] += a * q.srad;
      for (std::size_t s = 0; s < q.sym.size(); ++s) sym[s] += wk * q.sym[s];
    }
  }
  return g;
}

// What each state quantity's loc bounds becomes a new symbol (of size loc), so that later steps,
// and the layers above, propagate it linearly.
void to_symbols(std::vector<Q*> state, std::size_t& symbols) {
  std::vector<std::size_t> at(state.size(), 0);
  std::size_t next = symbols;
  auto gets_one = [](const Q& q) { return q.loc > 0.0 && q.loc < INFINITY; };  // unbounded stays so
  for (std::size_t i = 0; i < state.size(); ++i) {
    if (gets_one(*state[i])) at[i] = next++;
  }
  for (std::size_t i = 0; i < state.size(); ++i) {
    Q& q = *state[i];
    if (q.loc == INFINITY) continue;
    q.sym.resize(next, 0.0);
    if (gets_one(q)) {
      q.sym[at[i]] = q.loc;
      q.srad = up(q.srad + q.loc);
      q.loc = 0.0;
    }
  }
  symbols = next;
}

// cell_step() with bounds: x the layer input at this step, h and c the state (updated);
// `symbols` counts the symbols of this batch element (all layers and directions).
void cell_step_bound(const Config& cfg, const LayerParams& p, int in_size, const Model& model,
                     const std::vector<Q>& xq, std::vector<Q>& h, std::vector<Q>& c, std::size_t& symbols) {
  const int H = cfg.hidden_size;
  const int h_out = cfg.proj_size > 0 ? cfg.proj_size : H;
  const int G = num_gates(cfg.cell);
  std::vector<double> x(sz(in_size)), hv(sz(h_out));
  for (int k = 0; k < in_size; ++k) x[sz(k)] = xq[sz(k)].v;
  for (int k = 0; k < h_out; ++k) hv[sz(k)] = h[sz(k)].v;
  const std::vector<double> gi = affine(p.w_ih, p.b_ih, G * H, in_size, x);
  const std::vector<double> gh = affine(p.w_hh, p.b_hh, G * H, h_out, hv);
  const GemmRows ri = gemm_rows(p.w_ih, G * H, in_size, xq);
  const GemmRows rh = gemm_rows(p.w_hh, G * H, h_out, h);
  const long long nb = cfg.bias ? 1 : 0;
  auto bias = [&](const std::vector<double>& b, int r) { return b.empty() ? 0.0 : std::fabs(b[sz(r)]); };
  // gi[r] + gh[r]: one sum of in_size + h_out products and the two biases (or two sums then added).
  auto gate = [&](int r) {
    const long long K = in_size + h_out + 2 * nb;
    const double sum = model.gamma(K) * (ri.mag[sz(r)] + rh.mag[sz(r)] + bias(p.b_ih, r) + bias(p.b_hh, r)) +
                       static_cast<double>(K) * model.rule.eta32;
    Q q;
    q.v = gi[sz(r)] + gh[sz(r)];
    q.e = ri.prop[sz(r)] + rh.prop[sz(r)] + sum;
    q.sym = combine(1.0, ri.sym[sz(r)], 1.0, rh.sym[sz(r)]);
    q.loc = ri.loc[sz(r)] + rh.loc[sz(r)] + sum + Model::coef_gamma(in_size) * ri.crad[sz(r)] +
            Model::coef_gamma(h_out) * rh.crad[sz(r)] + kCoefRel * (abs_sum(ri.sym[sz(r)]) + abs_sum(rh.sym[sz(r)]));
    Model::settle(q, 2.0 * (ri.mag[sz(r)] + rh.mag[sz(r)] + bias(p.b_ih, r) + bias(p.b_hh, r)));
    return q;
  };
  auto input_part = [&](int r) {  // gi[r] alone (GRU's n gate)
    const long long K = in_size + nb;
    const double sum = model.gamma(K) * (ri.mag[sz(r)] + bias(p.b_ih, r)) + static_cast<double>(K) * model.rule.eta32;
    Q q;
    q.v = gi[sz(r)];
    q.e = ri.prop[sz(r)] + sum;
    q.sym = ri.sym[sz(r)];
    q.loc = ri.loc[sz(r)] + sum + Model::coef_gamma(in_size) * ri.crad[sz(r)];
    Model::settle(q, 2.0 * (ri.mag[sz(r)] + bias(p.b_ih, r)));
    return q;
  };
  auto hidden_part = [&](int r) {  // gh[r] alone
    const long long K = h_out + nb;
    const double sum = model.gamma(K) * (rh.mag[sz(r)] + bias(p.b_hh, r)) + static_cast<double>(K) * model.rule.eta32;
    Q q;
    q.v = gh[sz(r)];
    q.e = rh.prop[sz(r)] + sum;
    q.sym = rh.sym[sz(r)];
    q.loc = rh.loc[sz(r)] + sum + Model::coef_gamma(h_out) * rh.crad[sz(r)];
    Model::settle(q, 2.0 * (rh.mag[sz(r)] + bias(p.b_hh, r)));
    return q;
  };

  if (cfg.cell == Cell::lstm) {
    std::vector<Q> m(sz(H));
    for (int j = 0; j < H; ++j) {
      const Q i_gate = model.sigmoid_of(gate(0 * H + j));
      const Q f_gate = model.sigmoid_of(gate(1 * H + j));
      const Q g_gate = model.tanh_of(gate(2 * H + j));
      const Q o_gate = model.sigmoid_of(gate(3 * H + j));
      c[sz(j)] = model.add(model.mul(f_gate, c[sz(j)]), model.mul(i_gate, g_gate));
      m[sz(j)] = model.mul(o_gate, model.tanh_of(c[sz(j)]));
    }
    if (cfg.proj_size > 0) {
      std::vector<double> mv(sz(H));
      for (int j = 0; j < H; ++j) {
        m[sz(j)] = model.to_half(m[sz(j)]);  // the W_hr operand
        mv[sz(j)] = m[sz(j)].v;
      }
      const std::vector<double> hr = affine(p.w_hr, std::vector<double>(), h_out, H, mv);
      const GemmRows rr = gemm_rows(p.w_hr, h_out, H, m);
      for (int r = 0; r < h_out; ++r) {
        const double sum = model.gamma(H) * rr.mag[sz(r)] + static_cast<double>(H) * model.rule.eta32;
        Q q;
        q.v = hr[sz(r)];
        q.e = rr.prop[sz(r)] + sum;
        q.sym = rr.sym[sz(r)];
        q.loc = rr.loc[sz(r)] + sum + Model::coef_gamma(H) * rr.crad[sz(r)];
        Model::settle(q, 2.0 * rr.mag[sz(r)]);
        h[sz(r)] = model.to_half(q);
      }
    } else {
      for (int j = 0; j < H; ++j) h[sz(j)] = model.to_half(m[sz(j)]);
    }
  } else if (cfg.cell == Cell::gru) {
    std::vector<Q> h_new(sz(H));
    for (int j = 0; j < H; ++j) {
      const Q r = model.sigmoid_of(gate(0 * H + j));
      const Q z = model.sigmoid_of(gate(1 * H + j));
      const Q n = model.tanh_of(model.add(input_part(2 * H + j), model.mul(r, hidden_part(2 * H + j))));
      h_new[sz(j)] = model.to_half(model.add(model.mul(model.one_minus(z), n), model.mul(z, h[sz(j)])));
    }
    h = h_new;
  } else {
    for (int j = 0; j < H; ++j) h[sz(j)] = model.to_half(model.activation_of(cfg.cell, gate(j)));
  }
  std::vector<Q*> state;
  for (Q& q : h) state.push_back(&q);
  if (cfg.cell == Cell::lstm) {
    for (Q& q : c) state.push_back(&q);
  }
  to_symbols(state, symbols);
}

void require_half(const std::vector<double>& values, const HalfRule& rule, const std::string& what) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!representable(values[i], rule)) {
      std::ostringstream os;
      os.precision(17);
      os << what << "[" << i << "] = " << values[i] << " is not a value of the half dtype (rule 1)";
      require(false, os.str());
    }
  }
}

}  // namespace

BoundedResult forward_bound(const Config& cfg, const Params& params, const std::vector<double>& x,
                            int T, int B, const std::vector<int>& lengths,
                            const std::vector<double>* h0, const std::vector<double>* c0,
                            const HalfRule& rule, const DropoutScale& dropout) {
  validate(cfg, params, x, T, B, lengths, h0, c0);
  require_half(x, rule, "x");
  if (h0 != nullptr) require_half(*h0, rule, "h0");
  if (c0 != nullptr && cfg.cell == Cell::lstm) require_half(*c0, rule, "c0");
  for (std::size_t i = 0; i < params.size(); ++i) {
    const std::string at = "params[" + std::to_string(i) + "].";
    require_half(params[i].w_ih, rule, at + "w_ih");
    require_half(params[i].w_hh, rule, at + "w_hh");
    require_half(params[i].b_ih, rule, at + "b_ih");
    require_half(params[i].b_hh, rule, at + "b_hh");
    require_half(params[i].w_hr, rule, at + "w_hr");
  }
  const Model model(rule);

  const int D = cfg.bidirectional ? 2 : 1;
  const int H = cfg.hidden_size;
  const int h_out = cfg.proj_size > 0 ? cfg.proj_size : H;
  const bool is_lstm = cfg.cell == Cell::lstm;
  const long long LD = static_cast<long long>(cfg.num_layers) * D;

  BoundedResult out;
  Result& result = out.exact;
  Result& bound = out.bound;
  result.hn.assign(sz(LD * B * h_out), 0.0);
  bound.hn.assign(sz(LD * B * h_out), 0.0);
  if (is_lstm) {
    result.cn.assign(sz(LD * B * H), 0.0);
    bound.cn.assign(sz(LD * B * H), 0.0);
  }

  // The layer's input: x exact (D values), then the layer below's y, its errors in the symbols of
  // its batch element (each layer and direction adds its own).
  std::vector<Q> layer_in(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) layer_in[i].v = x[i];
  std::vector<std::size_t> symbols(sz(B), 0);
  int in_size = cfg.input_size;

  for (int l = 0; l < cfg.num_layers; ++l) {
    const int out_size = D * h_out;
    std::vector<Q> layer_out(sz(static_cast<long long>(T) * B * out_size));

    for (int d = 0; d < D; ++d) {
      const long long state = static_cast<long long>(l) * D + d;
      const LayerParams& p = params[sz(state)];
      for (int b = 0; b < B; ++b) {
        const int len = lengths[sz(b)];
        std::vector<Q> h(sz(h_out)), c(sz(H));  // h0, c0 are exact (D values): no error yet
        for (int j = 0; j < h_out; ++j) {
          if (h0 != nullptr) h[sz(j)].v = (*h0)[sz((state * B + b) * h_out + j)];
        }
        for (int j = 0; j < H; ++j) {
          if (is_lstm && c0 != nullptr) c[sz(j)].v = (*c0)[sz((state * B + b) * H + j)];
        }
        for (int s = 0; s < len; ++s) {
          const int t = d == 0 ? s : len - 1 - s;
          const auto first = layer_in.begin() + static_cast<std::ptrdiff_t>((static_cast<long long>(t) * B + b) * in_size);
          const std::vector<Q> xt(first, first + in_size);
          cell_step_bound(cfg, p, in_size, model, xt, h, c, symbols[sz(b)]);
          for (int j = 0; j < h_out; ++j) {
            layer_out[sz((static_cast<long long>(t) * B + b) * out_size + d * h_out + j)] = h[sz(j)];
          }
        }
        for (int j = 0; j < h_out; ++j) {
          result.hn[sz((state * B + b) * h_out + j)] = h[sz(j)].v;
          bound.hn[sz((state * B + b) * h_out + j)] = h[sz(j)].e;
        }
        if (is_lstm) {
          for (int j = 0; j < H; ++j) {
            result.cn[sz((state * B + b) * H + j)] = c[sz(j)].v;
            bound.cn[sz((state * B + b) * H + j)] = model.to_half(c[sz(j)]).e;  // rule 4
          }
        }
      }
    }

    if (l == cfg.num_layers - 1) {
      result.y.resize(layer_out.size());
      bound.y.resize(layer_out.size());
      for (std::size_t i = 0; i < layer_out.size(); ++i) {
        result.y[i] = layer_out[i].v;  // positions past each length: 0, no error
        bound.y[i] = layer_out[i].e;
      }
    } else {
      if (dropout) {
        for (int t = 0; t < T; ++t) {
          for (int b = 0; b < B; ++b) {
            if (t >= lengths[sz(b)]) continue;
            for (int j = 0; j < out_size; ++j) {
              Q& q = layer_out[sz((static_cast<long long>(t) * B + b) * out_size + j)];
              q = model.to_half(model.scaled(q, dropout(l, t, b, j)));  // rule 6
            }
          }
        }
      }
      layer_in = std::move(layer_out);
      in_size = out_size;
    }
  }
  return out;
}

namespace {

void list_violations(const char* name, const std::vector<double>& actual, const std::vector<double>& exact,
                     const std::vector<double>& bound, int max_listed, std::ostringstream& os) {
  if (actual.size() != exact.size() || bound.size() != exact.size()) {
    os << name << ": size " << actual.size() << ", expected " << exact.size() << "\n";
    return;
  }
  std::vector<std::size_t> bad;
  auto ratio = [&](std::size_t i) {
    const double err = std::fabs(actual[i] - exact[i]);
    return bound[i] > 0.0 ? err / bound[i] : (err > 0.0 ? INFINITY : 0.0);
  };
  for (std::size_t i = 0; i < actual.size(); ++i) {
    // A NaN fails, unless the bound is infinite (no bound: the rule may overflow there).
    if (!(std::fabs(actual[i] - exact[i]) <= bound[i]) && bound[i] != INFINITY) bad.push_back(i);
  }
  if (bad.empty()) return;
  std::stable_sort(bad.begin(), bad.end(), [&](std::size_t a, std::size_t b) {
    const double ra = ratio(a), rb = ratio(b);
    return ra > rb || (std::isnan(ra) && !std::isnan(rb));
  });
  os << name << ": " << bad.size() << " of " << actual.size() << " elements outside the bound\n";
  os.precision(9);
  for (std::size_t n = 0; n < bad.size() && n < sz(max_listed); ++n) {
    const std::size_t i = bad[n];
    os << "  " << name << "[" << i << "] = " << actual[i] << ", exact " << exact[i] << ", error "
       << std::fabs(actual[i] - exact[i]) << " > bound " << bound[i] << "\n";
  }
}

}  // namespace

std::string bound_violations(const Result& actual, const BoundedResult& expected, int max_listed) {
  std::ostringstream os;
  list_violations("y", actual.y, expected.exact.y, expected.bound.y, max_listed, os);
  list_violations("hn", actual.hn, expected.exact.hn, expected.bound.hn, max_listed, os);
  list_violations("cn", actual.cn, expected.exact.cn, expected.bound.cn, max_listed, os);
  return os.str();
}

}  // namespace gpurnn_ref
