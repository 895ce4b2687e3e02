// `gpurnn run` end to end: a saved model and .npy inputs in, .npy outputs equal to the library's
// forward; bad input ends with a message naming the file or flag and a non-zero exit.

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "gpurnn/io/npy.h"
#include "gpurnn/io/rnn_file.h"
#include "test_support.h"

#ifndef GPURNN_CLI_PATH
#error "GPURNN_CLI_PATH must name the gpurnn executable"
#endif

namespace gpurnn::testing {
namespace {

using CliResult = CommandResult;

CliResult run_cli(const std::string& args) { return run_command(std::string(GPURNN_CLI_PATH) + " " + args); }

class CliRun : public ::testing::Test {
 protected:
  std::string path(const std::string& name) const { return dir_.file(name); }

  ScratchDir dir_;
};

TEST_F(CliRun, OutputsEqualTheLibraryForward) {
  RNNDescriptor d;
  d.cell = CellKind::lstm;
  d.input_size = 4;
  d.hidden_size = 6;
  d.num_layers = 2;
  d.bidirectional = true;
  d.proj_size = 3;
  RNN rnn(d, DType::f32, "cpu", 17);
  io::save_rnn(path("model.safetensors"), rnn.weights(), "rnn.");

  SequenceInputs in;
  in.batch_first = true;
  const Tensor x = random_tensor({3, 5, 4}, DType::f32, 1, 1);  // [B, T, I]
  const std::int64_t lengths[3] = {5, 2, 4};
  const Tensor lengths64 = Tensor::from_host<std::int64_t>({3}, lengths);
  in.lengths = lengths64.to(DType::i32);
  in.h0 = random_tensor({4, 3, 3}, DType::f32, 1, 2);
  in.c0 = random_tensor({4, 3, 6}, DType::f32, 1, 3);
  const RNNOutput want = rnn.forward(x, in);

  io::write_npy(path("x.npy"), x);
  io::write_npy(path("len.npy"), lengths64);
  io::write_npy(path("h0.npy"), in.h0);
  io::write_npy(path("c0.npy"), in.c0.to(DType::f64));  // any floating dtype is accepted
  const CliResult r = run_cli("run --weights " + path("model.safetensors") + " --prefix rnn. --input " +
                              path("x.npy") + " --output " + path("y.npy") + " --lengths " +
                              path("len.npy") + " --h0 " + path("h0.npy") + " --c0 " + path("c0.npy") +
                              " --hn " + path("hn.npy") + " --cn " + path("cn.npy") + " --batch-first");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(to_vector(io::read_npy(path("y.npy"))), to_vector(want.y));
  EXPECT_EQ(to_vector(io::read_npy(path("hn.npy"))), to_vector(want.hn));
  EXPECT_EQ(to_vector(io::read_npy(path("cn.npy"))), to_vector(want.cn));
}

TEST_F(CliRun, BadInputIsAClearErrorAndWritesNothing) {
  RNNDescriptor d;
  d.cell = CellKind::gru;
  d.input_size = 4;
  d.hidden_size = 5;
  RNN rnn(d, DType::f32, "cpu", 1);
  io::save_rnn(path("gru.safetensors"), rnn.weights());
  io::write_npy(path("x.npy"), random_tensor({2, 3, 4}, DType::f32, 1, 1));
  io::write_npy(path("x_wrong.npy"), random_tensor({2, 3, 7}, DType::f32, 1, 1));
  const std::int32_t too_long[3] = {2, 9, 1};
  io::write_npy(path("len.npy"), Tensor::from_host<std::int32_t>({3}, too_long));
  const std::string base = "run --weights " + path("gru.safetensors") + " --output " + path("y.npy");

  struct Case {
    std::string args;
    std::string expect;
  };
  const Case cases[] = {
      {"run --weights " + path("none.safetensors") + " --input " + path("x.npy") + " --output " + path("y.npy"),
       "none.safetensors"},
      {base + " --input " + path("missing.npy"), "missing.npy"},
      {base + " --input " + path("x_wrong.npy"), "'x'"},
      {base + " --input " + path("x.npy") + " --lengths " + path("len.npy"), "'lengths'"},
      {base + " --input " + path("x.npy") + " --cn " + path("cn.npy"), "no cell state"},
      {base + " --input " + path("x.npy") + " --device cuda:0", "--device"},
      {base + " --input " + path("x.npy") + " --cell lstm", "4 gates"},
      {base + " --input " + path("x.npy") + " --dtype i32", "--dtype"},
      {"run --input " + path("x.npy"), "--weights"},
  };
  for (const Case& c : cases) {
    const CliResult r = run_cli(c.args);
    EXPECT_NE(r.exit_code, 0) << c.args;
    EXPECT_NE(r.output.find(c.expect), std::string::npos) << c.args << "\n" << r.output;
    EXPECT_FALSE(std::ifstream(path("y.npy")).good()) << "y.npy written by a failing run: " << c.args;
  }
}

// --device cuda without a usable GPU gives the reason `gpurnn info` shows, not only a count.
TEST_F(CliRun, UnavailableCudaDeviceSaysWhy) {
  RNNDescriptor d;
  d.cell = CellKind::gru;
  d.input_size = 4;
  d.hidden_size = 5;
  io::save_rnn(path("gru.safetensors"), RNN(d, DType::f32, "cpu", 1).weights());
  io::write_npy(path("x.npy"), random_tensor({2, 3, 4}, DType::f32, 1, 1));
  const std::string base =
      "run --weights " + path("gru.safetensors") + " --input " + path("x.npy") + " --output " + path("y.npy");
  const int count = cuda_device_count();
  const std::vector<std::string> devices =
      count == 0 ? std::vector<std::string>{"cuda", "cuda:1"} : std::vector<std::string>{"cuda:" + std::to_string(count)};
  const std::string why = count == 0 ? "no CUDA device (" + cuda_unavailable_reason() + ")"
                                     : std::to_string(count) + " CUDA device(s)";
  for (const std::string& device : devices) {
    const CliResult r = run_cli(base + " --device " + device);
    EXPECT_NE(r.exit_code, 0) << device;
    EXPECT_NE(r.output.find("--device " + device + ": not available"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(why), std::string::npos) << "expected '" << why << "' in\n" << r.output;
    EXPECT_FALSE(std::ifstream(path("y.npy")).good());
  }
}

}  // namespace
}  // namespace gpurnn::testing
