// libFuzzer entry point for `gpurnn run --weights`: io::load_rnn on a safetensors file (a
// PyTorch-layout model, its cell and sizes inferred). A gpurnn::Error is the expected outcome for
// a file that is not such a model; an accepted one must run: one step of a one-row input through
// RNN::forward on the cpu backend gives y and hn of the descriptor's sizes.
#include <optional>

#include "fuzz_support.h"
#include "gpurnn/io/rnn_file.h"
#include "gpurnn/rnn.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = gpurnn::fuzz::input_file(data, size, ".safetensors");
  std::optional<gpurnn::RNNWeights> weights;
  try {
    weights.emplace(gpurnn::io::load_rnn(path));
  } catch (const gpurnn::Error& error) {
    return gpurnn::fuzz::refused(error);  // not a model: fine
  }
  const gpurnn::RNNDescriptor d = weights->descriptor();
  const gpurnn::DType dtype = weights->dtype();
  gpurnn::fuzz::check(d.input_size >= 1 && d.hidden_size >= 1 && d.num_layers >= 1);
  gpurnn::RNN rnn(std::move(*weights), "cpu");
  const gpurnn::Tensor x = gpurnn::Tensor::zeros({1, 1, d.input_size}, dtype);
  const gpurnn::RNNOutput out = rnn.forward(x);
  gpurnn::fuzz::check(out.y.shape() == gpurnn::Shape({1, 1, d.output_size()}));
  gpurnn::fuzz::check(out.hn.shape() == gpurnn::Shape({d.num_layers * d.num_directions(), 1, d.state_size()}));
  return 0;
}
