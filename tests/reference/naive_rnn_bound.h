// The ground truth for the half-precision (bf16/f16) forward of issue 30: forward_bound() returns
// what gpurnn_ref::forward() returns (the exact problem in f64, bit for bit) together with an
// elementwise bound E on y, hn and cn such that |backend - exact| <= E for EVERY backend that
// follows the precision rule below (any GEMM summation order, any rounding the model allows).
// Implemented in naive_rnn.cpp, next to forward(), whose helpers it shares; checked by
// tests/test_reference_bound.cpp against emulations of the rule (and against wrong ones, which it
// must catch).
//
// The rule (the arithmetic model), half dtype D with unit roundoff u (2^-8 bf16, 2^-11 f16):
//  1. x, h0, c0, weights and biases are D values (forward_bound checks this and throws otherwise).
//  2. Each GEMM multiplies D operands, accumulating in f32 in any order; b_ih, b_hh added in f32.
//  3. Cell math in f32, formulas as in naive_rnn.cpp (GRU h' = (1-z)*n + z*h): each + - * within
//     u32 = 2^-24 relative (+2^-150 absolute: gradual underflow), sigmoid/tanh within 2^-21
//     relative (+2^-126 absolute: sigmoid's underflowing tail), relu exact. FMA contraction is
//     allowed (it only drops roundings).
//  4. c stays f32 within the sequence; cn = round_D(c_T).
//  5. h_t rounded to D once per step; with a projection m_t = round_D(o*tanh(c_t)) and
//     h_t = round_D(m_t W_hr^T).
//  6. The next layer's input is the previous layer's y; with dropout round_D(f32(y * scale)).
//  7. Past a sequence's length the state is kept and y = 0 (exactly, so E = 0 there).
//
// Derivation. Each quantity a backend computes is carried with its exact value q (forward()'s)
// and two bounds on its error d = q_backend - q, both valid, the smaller one used:
//  (A) componentwise, e >= |d|, by the inequalities below, which hold for ALL backend values in
//      [q - e, q + e] (b subscripts a backend value):
//  - GEMM row a = sum_k W_k v_k + b over K terms (gate pre-activations: K = I + H_out, +2 with
//    bias, so gi + gh in one sum or as two sums then added are both covered): the operands' errors
//    give sum_k W_k (v_b,k - v_k), and an f32 sum of K products in any order errs by at most
//    gamma_K sum|terms| (Higham, Accuracy and Stability, 3.1-3.5; gamma_K = K u32 / (1 - K u32)),
//    with |v_b,k| <= |v_k| + e_k:  e_a = sum_k |W_k| e_k + gamma_K (sum_k |W_k| (|v_k| + e_k) + |b|)
//    + K 2^-150. (GRU's n gate: gi_n and gh_n apart, K = I (+1) and H_out (+1).)
//  - activation f on (a, e): by the mean value theorem f(a_b) - f(a) = s (a_b - a) with the slope s
//    in [lmin, lmax], f' over the WHOLE interval [a - e, a + e]; sigmoid' and tanh' are even and
//    decrease in |a|, so lmax = f'(max(0, |a| - e)), lmin = f'(|a| + e), exactly (relu: its divided
//    difference is in [0, 1], 0 or 1 when the interval misses 0). e_f = lmax e + the f32 evaluation
//    error 2^-21 (|f(a)| + lmax e) + 2^-126; capped by the ranges ([0,1], [-1,1]).
//  - product: (p + dp)(q + dq) - pq = p dq + q dp + dp dq, so e = |p| e_q + |q| e_p + e_p e_q (second
//    order kept) plus the rounding u32 (|pq| + that) + 2^-150. Sum: e_p + e_q + u32 (|p + q| + e_p
//    + e_q) + 2^-150; 1 - z likewise.
//  - rounding to D: |round_D(v_b) - v_b| <= u |v_b| + eta <= u (|v| + e) + eta, eta = half D's
//    smallest subnormal (2^-25 f16, 2^-134 bf16). For h (each step), m (projection), cn (once, at
//    the end) and the dropped-out next-layer input (after e' = |s| e + gamma_4 (|v s| + |s| e)
//    + 2^-150 for the scale s = 1/(1-p) computed in f32 and the product).
//  (B) affine: d = sum_k c_k eta_k + r, |r| <= loc, where the eta_k in [-1, 1] are fixed unknowns
//      (one per state element per step: the part of that step's error not already expressed
//      through earlier ones), shared by all that depends on them, across steps, directions and
//      layers of one batch element. The same steps, split into an exact linear part and a bounded
//      rest: a GEMM maps the c_k through W (signed, so errors of mixed sign cancel as they do in the
//      backend); its f32 rounding and |W| times the operands' loc go to loc. An activation takes
//      mid = (lmin + lmax)/2 times the form, and half = (lmax - lmin)/2 times e to loc (s = mid +-
//      half above), or, when that is less, f'(a) times the form and max|f''| e^2 / 2 to loc
//      (Taylor; max|f''| = 1/(6 sqrt 3) for sigmoid, 4/(3 sqrt 3) for tanh). A product takes
//      p c(q) + q c(p), and e_p e_q to loc. Each rounding goes to loc.
//      At the end of each step each state element's loc becomes a new eta (of that size).
//      |d| <= sum_k |c_k| + loc.
// Nothing is linearized: both are inequalities over whole intervals, second-order terms included,
// so the bound is a true upper bound under the model, not a first-order estimate; (B) is exactly
// first order in its linear part, which is what makes it close to the worst case rather than to the
// product of |W| row sums that (A) alone compounds per step (about sqrt(H)/2 for PyTorch's init, so
// (A) alone is vacuous for a vanilla cell of H = 24 over 12 steps). Slack: forward() is itself f64
// (each operation within a few 2^-53), so 2^-50 is added to u32 and to the activation error; the
// bound's own double arithmetic: non-negative sums inflated by (1 + 2^-40), each linear
// combination of the signed c_k by 2^-52 of the magnitudes combined (to loc). Overflow: a value
// that may leave f32's range, or D's when rounded to it, gets an infinite bound (no bound), as does
// all that depends on it.
// Cost: O(G H (I + H_out) S) per step, S <= layers * directions * T * (H_out + H) symbols per batch
// element; meant for test shapes (-O2, one core: 15 ms for rnn_tanh, 150 ms for lstm, with H = 24,
// T = 11, B = 3 and two bidirectional layers; a single layer of those, a few ms).
#pragma once

#include <string>
#include <vector>

#include "naive_rnn.h"

namespace gpurnn_ref {

// The arithmetic model of the rule above, for one half dtype.
struct HalfRule {
  double u;            // unit roundoff of D: 2^-8 bf16, 2^-11 f16
  double eta;          // largest error of one rounding to D in its subnormal range: 2^-134, 2^-25
  int precision;       // significant bits of D: 8, 11
  int min_exponent;    // 2^min_exponent is D's smallest normal: -126, -14
  double max_finite;   // D's largest finite value
  double u32 = 0x1p-24;       // f32 + - *: relative
  double eta32 = 0x1p-150;    // f32 + - *: absolute (gradual underflow)
  double act_rel = 0x1p-21;   // f32 sigmoid, tanh: relative (4 ulp)
  double act_abs = 0x1p-126;  // f32 sigmoid, tanh: absolute
};
HalfRule bf16_rule();
HalfRule f16_rule();
// bf16_rule() for u = 2^-8, f16_rule() for u = 2^-11 (gpurnn::unit_roundoff(dtype)); else
// std::invalid_argument.
HalfRule half_rule(double u);
// Whether v is a value of the rule's D (finite).
bool representable(double v, const HalfRule& rule);

struct BoundedResult {
  Result exact;  // forward()'s result, bit for bit
  // The same shapes: |backend - exact| <= bound elementwise; 0 past each length; +inf where the
  // rule may overflow (f32, or D when rounding to it), which is no bound at all.
  Result bound;
};

// Arguments as for forward(); x, params, h0 and c0 must be D values (std::invalid_argument
// otherwise, naming the first that is not). The dropout factors are applied as forward() applies
// them, the backend rounding each kept product to D.
BoundedResult forward_bound(const Config& cfg, const Params& params, const std::vector<double>& x,
                            int T, int B, const std::vector<int>& lengths,
                            const std::vector<double>* h0, const std::vector<double>* c0,
                            const HalfRule& rule, const DropoutScale& dropout = nullptr);

// "" when the sizes agree and |actual - exact| <= bound for every element of y, hn and cn (a NaN
// fails, except under an infinite bound); otherwise which tensor, the count, and the max_listed
// worst elements (by error / bound).
std::string bound_violations(const Result& actual, const BoundedResult& expected, int max_listed = 5);

}  // namespace gpurnn_ref
