#pragma once
// The recurrent cells: PyTorch's RNN modes (tanh, relu), LSTM and GRU, plus rnn_sigmoid.
// What each one is (gates, saved values, name) is its row in detail/cell_traits.h.

#include <string>
#include <vector>

namespace gpurnn {

enum class CellKind { rnn_tanh, rnn_relu, rnn_sigmoid, lstm, gru };

const char* to_string(CellKind cell);
// Parses "rnn_tanh", "rnn_relu", "rnn_sigmoid", "lstm", "gru".
CellKind parse_cell_kind(const std::string& text);
// Gates per hidden unit: 1 (vanilla), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n).
int gates_per_cell(CellKind cell);
// Every cell's name in enum order, for help and error messages: "rnn_tanh, rnn_relu,
// rnn_sigmoid, lstm, gru", or with `last_separator` " or " "..., lstm or gru".
std::string cell_kind_names(const char* last_separator = ", ");
// The names of `cells`, joined the same way ("rnn_relu or rnn_sigmoid").
std::string cell_kind_names(const std::vector<CellKind>& cells, const char* last_separator = ", ");

}  // namespace gpurnn
