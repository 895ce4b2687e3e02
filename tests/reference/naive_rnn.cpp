// Deliberately naive reference implementation; see naive_rnn.h.
// Every batch element is processed on its own over exactly its own length (packed-sequence
// semantics), with plain loops and double precision throughout.
#include "naive_rnn.h"

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>

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

}  // namespace gpurnn_ref
