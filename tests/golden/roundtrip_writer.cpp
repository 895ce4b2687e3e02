// Writes models saved by libgpurnn (io::save_rnn) with inputs and libgpurnn's outputs, for
// make_golden.py check-roundtrip to load into PyTorch and compare. Usage: roundtrip_writer DIR

#include <cstdio>
#include <string>
#include <vector>

#include "gpurnn/detail/counter_random.h"
#include "gpurnn/gpurnn.h"
#include "gpurnn/io/rnn_file.h"

namespace {

using namespace gpurnn;

Tensor random_f32(Shape shape, std::uint64_t stream) {
  Tensor t = Tensor::empty(shape, DType::f32);
  for (std::int64_t k = 0; k < t.numel(); ++k) {
    const double u = detail::random_uniform(2024, stream, static_cast<std::uint64_t>(k));
    t.data_as<float>()[k] = static_cast<float>(2 * u - 1);
  }
  return t;
}

void write_case(const std::string& dir, const std::string& name, const RNNDescriptor& desc,
                bool ragged, bool batch_first) {
  RNN rnn(desc, DType::f32, "cpu", 99);
  const std::int64_t T = 6, B = 3;
  const Tensor x = random_f32(batch_first ? Shape{B, T, desc.input_size} : Shape{T, B, desc.input_size}, 1);
  SequenceInputs in;
  in.batch_first = batch_first;
  const std::int32_t lengths[B] = {4, 6, 1};
  if (ragged) in.lengths = Tensor::from_host<std::int32_t>({B}, lengths);
  const RNNOutput out = rnn.forward(x, in);

  io::save_rnn(dir + "/" + name + ".model.safetensors", rnn.weights());
  std::vector<io::NamedTensor> io_tensors = {{"x", x.view()}, {"y", out.y.view()}, {"hn", out.hn.view()}};
  if (ragged) io_tensors.push_back({"lengths", in.lengths.view()});
  if (out.cn.defined()) io_tensors.push_back({"cn", out.cn.view()});
  io::write_safetensors(dir + "/" + name + ".io.safetensors", io_tensors,
                        {{"batch_first", batch_first ? "1" : "0"}});
  std::printf("wrote %s: %s\n", name.c_str(), to_string(desc).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  try {
    struct Case {
      const char* name;
      CellKind cell;
      int layers;
      bool bidirectional, bias, ragged, batch_first;
      std::int64_t proj;
    };
    const Case cases[] = {
        {"rnn_tanh_l1", CellKind::rnn_tanh, 1, false, true, false, false, 0},
        {"rnn_relu_l2_bi_ragged", CellKind::rnn_relu, 2, true, true, true, false, 0},
        {"lstm_l2_bi_ragged", CellKind::lstm, 2, true, true, true, false, 0},
        {"lstm_proj_l2_ragged_batch_first", CellKind::lstm, 2, false, true, true, true, 3},
        {"gru_l2_bi_nobias_ragged", CellKind::gru, 2, true, false, true, false, 0},
    };
    for (const Case& c : cases) {
      RNNDescriptor d;
      d.cell = c.cell;
      d.input_size = 5;
      d.hidden_size = 7;
      d.num_layers = c.layers;
      d.bidirectional = c.bidirectional;
      d.bias = c.bias;
      d.proj_size = c.proj;
      write_case(dir, c.name, d, c.ragged, c.batch_first);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "roundtrip_writer: %s\n", e.what());
    return 1;
  }
  return 0;
}
