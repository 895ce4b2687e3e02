// Deliberately naive double-precision reference implementation of RNN/LSTM/GRU forward passes
// (PyTorch torch.nn.RNN/LSTM/GRU semantics, packed-sequence semantics for ragged lengths).
// Used only as ground truth in tests: plain loops, no BLAS, clarity over speed.
#pragma once
#include <functional>
#include <vector>
namespace gpurnn_ref {
enum class Cell { rnn_tanh, rnn_relu, rnn_sigmoid, lstm, gru };
struct Config {
  Cell cell;
  int input_size;
  int hidden_size;
  int num_layers;
  bool bidirectional;
  bool bias;
  int proj_size;  // 0 = no projection; only for lstm
};
// Parameters of one layer and direction, PyTorch layout, row-major. G = 1 (rnn), 4 (lstm), 3 (gru).
struct LayerParams {
  std::vector<double> w_ih;  // [G*H, I_l]  (I_0 = input_size, I_l = D*H_out for l>0)
  std::vector<double> w_hh;  // [G*H, H_out]
  std::vector<double> b_ih;  // [G*H] (empty when !bias)
  std::vector<double> b_hh;  // [G*H] (empty when !bias)
  std::vector<double> w_hr;  // [H_out, H] (only when proj_size > 0), H_out = proj_size
};
// params[l * D + d], D = 2 if bidirectional else 1, d = 1 is the reverse direction.
using Params = std::vector<LayerParams>;
struct Result {
  std::vector<double> y;   // [T, B, D*H_out]; time-major; zero past each sequence's length
  std::vector<double> hn;  // [L*D, B, H_out]
  std::vector<double> cn;  // [L*D, B, H] (lstm only, else empty)
};
// Called for the output of layer l (l < num_layers-1) at time t, batch b, feature j (j in [0, D*H_out)),
// returns the factor (0 or 1/(1-p)) the next layer's input is multiplied by. Null = no dropout.
using DropoutScale = std::function<double(int layer, int t, int b, int j)>;
// x: [T, B, I] time-major. lengths: B values in [1, T], any order. h0: [L*D, B, H_out] or null (zeros).
// c0: [L*D, B, H] or null (zeros).
Result forward(const Config& cfg, const Params& params, const std::vector<double>& x, int T, int B,
               const std::vector<int>& lengths, const std::vector<double>* h0,
               const std::vector<double>* c0, const DropoutScale& dropout = nullptr);
}  // namespace gpurnn_ref
