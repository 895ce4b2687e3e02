#pragma once
// An RNN in a safetensors file, named as in a PyTorch state_dict (weight_ih_l0,
// bias_hh_l1_reverse, weight_hr_l0, ...), optionally under a module prefix ("rnn." for a
// model whose RNN is the attribute `rnn`). Cell kind, layers, sizes, bias, projection and
// direction are inferred from names and shapes; metadata "cell" (lstm, gru, rnn_tanh,
// rnn_relu, rnn_sigmoid) settles what shapes cannot (tanh vs relu) and defaults to rnn_tanh
// for a one-gate cell. A cell module's state_dict (torch.nn.LSTMCell, GRUCell, RNNCell:
// weight_ih, weight_hh, bias_ih, bias_hh, no layer suffix) loads as a one-layer,
// one-direction RNN. A file whose tensors are not an RNN's says under which module prefixes
// its RNN parameters are, when some tensor's last name component is one.

#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "gpurnn/io/safetensors.h"
#include "gpurnn/rnn_weights.h"

namespace gpurnn::io {

struct RNNLoadOptions {
  std::string prefix;              // e.g. "rnn."; "" for a bare torch.nn.LSTM state_dict
  std::optional<CellKind> cell;    // overrides the file's metadata
  // The weights' dtype after loading: f32, f64, bf16 or f16, whatever the file stores. A tensor
  // stored in that dtype is copied bit for bit (a BF16 file loaded as bf16 never passes through
  // f32); any other floating tensor converts as SafetensorsReader::read_as does: F16/BF16 to f32
  // or f64 exactly, F32/F64 to bf16 or f16 rounded to nearest even (gpurnn/half.h).
  DType dtype = DType::f32;
  // Called with a warning the load does not stop for: a one-gate cell whose kind neither the
  // file nor `cell` states is guessed as rnn_tanh (a torch.nn.RNN(nonlinearity='relu') saved
  // without metadata would run wrongly). Empty: the warning goes to stderr.
  std::function<void(const std::string&)> warn;
};

// The descriptor the file's tensors describe. Error(io_error) naming the tensor when names or
// shapes are missing, extra or inconsistent (e.g. layer 1's input size differs from layer 0's
// output).
RNNDescriptor infer_rnn_descriptor(const SafetensorsReader& file, const RNNLoadOptions& options = {});
RNNWeights load_rnn(const std::string& path, const RNNLoadOptions& options = {});
struct RNNSaveOptions {
  RNNSaveOptions() = default;
  // Implicit, so save_rnn(path, weights, "rnn.") and save_rnn(path, weights, prefix) still work.
  RNNSaveOptions(std::string prefix_, bool cell_names_ = false)
      : prefix(std::move(prefix_)), cell_names(cell_names_) {}
  RNNSaveOptions(const char* prefix_, bool cell_names_ = false)
      : prefix(prefix_), cell_names(cell_names_) {}

  std::string prefix;  // e.g. "rnn."; "" for a bare module's state_dict
  // Write a cell module's names (weight_ih, weight_hh, bias_ih, bias_hh: no "_l0"), which
  // torch.nn.LSTMCell / GRUCell / RNNCell.load_state_dict accepts. Only for a one-layer,
  // one-direction RNN without projection (what a cell module is); others are refused with
  // Error(invalid_argument).
  bool cell_names = false;
};

// Writes every parameter under `options.prefix` with metadata "cell", so
// torch.nn.LSTM/GRU/RNN.load_state_dict accepts the file (after safetensors.torch.load_file),
// or with options.cell_names torch.nn.LSTMCell/GRUCell/RNNCell.load_state_dict.
// Parameters are written in the weights' dtype, bit for bit: bf16 weights as BF16 and f16 as
// F16, which a module converted with .to(torch.bfloat16) / .to(torch.float16) loads unchanged.
void save_rnn(const std::string& path, const RNNWeights& weights, const RNNSaveOptions& options = {});

}  // namespace gpurnn::io
