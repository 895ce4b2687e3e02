// Writes models saved by libgpurnn (io::save_rnn) with inputs and libgpurnn's outputs, for
// make_golden.py check-roundtrip to load into PyTorch and compare; and half models (issue 30):
// DIR/half/lib_bf16 and lib_f16 (an LSTM saved in bf16 / f16, with its exact f32 values beside
// it) for make_golden.py check-half. Usage: roundtrip_writer DIR
//
// roundtrip_writer --check-torch-half DIR/half reads the other direction: the bf16 and f16 LSTM
// state_dicts check-half saved from PyTorch (torch_bf16, torch_f16) must load with io::load_rnn
// as bf16 / f16 with PyTorch's bit patterns, and as f32 with PyTorch's .float() values.

#include <cstdio>
#include <cstring>
#include <filesystem>
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

// The LSTM of the half cases, both directions: 2 layers, bidirectional, projection.
RNNDescriptor half_descriptor() {
  RNNDescriptor d;
  d.cell = CellKind::lstm;
  d.input_size = 5;
  d.hidden_size = 7;
  d.num_layers = 2;
  d.bidirectional = true;
  d.proj_size = 3;
  return d;
}

// DIR/lib_<dtype>.model.safetensors (save_rnn of `dtype` weights) and .f32.safetensors (the same
// weights widened to f32: exact, the numbers the half file means).
void write_half_case(const std::string& dir, DType dtype) {
  RNNWeights w(half_descriptor(), dtype);
  w.init_uniform(30);
  RNNWeights wide(half_descriptor(), DType::f32);
  copy_into(w.flat().to(DType::f32), wide.flat());
  const std::string name = std::string("lib_") + to_string(dtype);
  io::save_rnn(dir + "/" + name + ".model.safetensors", w);
  io::save_rnn(dir + "/" + name + ".f32.safetensors", wide);
  std::printf("wrote half/%s: %s in %s\n", name.c_str(), to_string(w.descriptor()).c_str(), to_string(dtype));
}

// Checks torch_<dtype>.model.safetensors (PyTorch's state_dict of a module in torch.bfloat16 or
// torch.float16) against torch_<dtype>.bits.safetensors (per parameter: its bit patterns as I32,
// and "wide.<name>", its .float() values as F32). Returns the number of mismatches.
int check_torch_half(const std::string& dir, DType dtype, const char* stored) {
  const std::string name = std::string("torch_") + to_string(dtype);
  const std::string model_path = dir + "/" + name + ".model.safetensors";
  const io::SafetensorsReader model(model_path);
  const io::SafetensorsReader bits(dir + "/" + name + ".bits.safetensors");
  int failures = 0;
  const auto fail = [&](const std::string& what) {
    std::printf("FAIL %s: %s\n", name.c_str(), what.c_str());
    ++failures;
  };
  for (const io::SafetensorsRecord& r : model.records()) {
    if (r.dtype != stored) fail("tensor '" + r.name + "' is stored as " + r.dtype + ", expected " + stored);
    if (model.read(r.name).dtype() != dtype) fail("read('" + r.name + "') is not " + to_string(dtype));
  }
  io::RNNLoadOptions options;
  options.dtype = dtype;
  const RNNWeights half = io::load_rnn(model_path, options);
  const RNNWeights f32 = io::load_rnn(model_path);  // f32: widened exactly
  if (!(half.descriptor() == half_descriptor())) fail("descriptor is " + to_string(half.descriptor()));
  if (half.dtype() != dtype) fail(std::string("loaded as ") + to_string(half.dtype()));
  for (const ParameterInfo& p : half.parameters()) {
    const Tensor expected = bits.read(p.name);
    const ConstTensorView got = half.get(p.name);
    const auto* got_bits = static_cast<const std::uint16_t*>(got.data());
    for (std::int64_t k = 0; k < got.numel(); ++k) {
      if (got_bits[k] != static_cast<std::uint16_t>(expected.data_as<std::int32_t>()[k])) {
        fail(p.name + "[" + std::to_string(k) + "] loaded as bits " + std::to_string(got_bits[k]) + ", PyTorch's are " +
             std::to_string(expected.data_as<std::int32_t>()[k]));
        break;
      }
    }
    const Tensor wide = bits.read("wide." + p.name);
    if (std::memcmp(f32.get(p.name).data(), wide.data(), wide.bytes()) != 0) {
      fail(p.name + " loaded as f32 differs from PyTorch's .float()");
    }
  }
  if (failures == 0) {
    std::printf("ok   %s: %zu PyTorch %s tensors load as %s bit for bit, and as f32 exactly\n", name.c_str(),
                half.parameters().size(), stored, to_string(dtype));
  }
  return failures;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--check-torch-half") {
    try {
      const int failures = check_torch_half(argv[2], DType::bf16, "BF16") + check_torch_half(argv[2], DType::f16, "F16");
      return failures == 0 ? 0 : 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "roundtrip_writer --check-torch-half: %s\n", e.what());
      return 1;
    }
  }
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR | --check-torch-half DIR\n", argv[0]);
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
    std::filesystem::create_directories(dir + "/half");  // apart: check-roundtrip compares outputs
    write_half_case(dir + "/half", DType::bf16);
    write_half_case(dir + "/half", DType::f16);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "roundtrip_writer: %s\n", e.what());
    return 1;
  }
  return 0;
}
