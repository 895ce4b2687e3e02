#pragma once
// What an RNN is: cell kind, sizes, layers, directions, bias, LSTM projection, dropout.
// The meaning of every field follows torch.nn.RNN / LSTM / GRU.

#include <cstdint>
#include <string>

#include "gpurnn/cell_kind.h"
#include "gpurnn/detail/cell_traits.h"

namespace gpurnn {

struct RNNDescriptor {
  CellKind cell = CellKind::lstm;
  std::int64_t input_size = 0;   // I: features of x_t
  std::int64_t hidden_size = 0;  // H: units of the cell state (and of h unless projected)
  int num_layers = 1;
  bool bidirectional = false;
  bool bias = true;              // b_ih and b_hh present
  std::int64_t proj_size = 0;    // LSTM only: h_t = W_hr (o ⊙ tanh(c_t)), h_t has proj_size units
  double dropout = 0.0;          // probability of dropping a layer output feeding the next layer
                                 // (training mode only, never after the last layer)

  int num_directions() const { return bidirectional ? 2 : 1; }
  int gates() const { return detail::cell_traits(cell).gates; }
  // Size of h_t: proj_size when projecting, else hidden_size.
  std::int64_t state_size() const { return proj_size > 0 ? proj_size : hidden_size; }
  // Features of y_t: directions × state_size().
  std::int64_t output_size() const { return num_directions() * state_size(); }
  // Features of the input of `layer`: input_size for layer 0, output_size() above it.
  std::int64_t layer_input_size(int layer) const { return layer == 0 ? input_size : output_size(); }
  bool has_cell_state() const { return detail::cell_traits(cell).cell_state; }

  // Throws Error(invalid_argument) naming the first field out of range.
  void validate() const;

  bool operator==(const RNNDescriptor& other) const;
  bool operator!=(const RNNDescriptor& other) const { return !(*this == other); }
};

// "lstm(I=32, H=64, layers=2, bidirectional, proj=16, dropout=0.1)"
std::string to_string(const RNNDescriptor& desc);

}  // namespace gpurnn
