// libFuzzer entry point for the .npy inputs of `gpurnn run` on a small LSTM: the first byte says
// which input the rest is (0 --input, 1 --lengths, 2 --h0, 3 --c0), the others keep valid values.
// Read as the command reads them (cli/run_inputs.h, from a file) and run through RNN::forward on
// the cpu backend: a gpurnn::Error is the expected outcome for an input that does not fit; an
// accepted one gives y of the forward contract's shape.
#include <optional>

#include "cli/run_inputs.h"
#include "fuzz_support.h"
#include "gpurnn/rnn.h"

namespace {

constexpr std::int64_t kSteps = 4, kBatch = 3, kInput = 2, kHidden = 3, kLayers = 2;

gpurnn::RNN& model() {
  static gpurnn::RNN rnn = [] {
    gpurnn::RNNDescriptor d;
    d.cell = gpurnn::CellKind::lstm;
    d.input_size = kInput;
    d.hidden_size = kHidden;
    d.num_layers = kLayers;
    return gpurnn::RNN(d, gpurnn::DType::f32, "cpu", 7);
  }();
  return rnn;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using gpurnn::DType;
  if (size == 0) return 0;
  const int role = data[0] % 4;
  const std::string path = gpurnn::fuzz::input_file(data + 1, size - 1, ".npy");
  gpurnn::Tensor x = gpurnn::Tensor::zeros({kSteps, kBatch, kInput}, DType::f32);
  gpurnn::SequenceInputs in;
  try {
    if (role == 0) x = gpurnn::cli::read_floating_npy(path, "--input", DType::f32);
    if (role == 1) in.lengths = gpurnn::cli::read_lengths_npy(path, "--lengths");
    if (role == 2) in.h0 = gpurnn::cli::read_floating_npy(path, "--h0", DType::f32);
    if (role == 3) in.c0 = gpurnn::cli::read_floating_npy(path, "--c0", DType::f32);
  } catch (const gpurnn::Error& error) {
    return gpurnn::fuzz::refused(error);  // not a usable file: fine
  }
  std::optional<gpurnn::RNNOutput> out;
  try {
    out.emplace(model().forward(x, in));
  } catch (const gpurnn::Error& error) {
    return gpurnn::fuzz::refused(error);  // refused by the forward call's checks: fine
  }
  gpurnn::fuzz::check(x.shape().rank() == 3);
  gpurnn::fuzz::check(out->y.shape() == gpurnn::Shape({x.dim(0), x.dim(1), kHidden}));
  gpurnn::fuzz::check(out->hn.shape() == gpurnn::Shape({kLayers, x.dim(1), kHidden}));
  return 0;
}
