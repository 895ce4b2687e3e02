// `gpurnn run` end to end: a saved model and .npy inputs in, .npy outputs equal to the library's
// forward; bad input ends with a message naming the file or flag and a non-zero exit.

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gpurnn/io/npy.h"
#include "gpurnn/io/rnn_file.h"
#include "gpurnn/io/safetensors.h"
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
  // gru.safetensors (I 4, H 5) and x.npy [2, 3, 4] in the scratch directory.
  void save_small_gru() const {
    RNNDescriptor d;
    d.cell = CellKind::gru;
    d.input_size = 4;
    d.hidden_size = 5;
    io::save_rnn(path("gru.safetensors"), RNN(d, DType::f32, "cpu", 1).weights());
    io::write_npy(path("x.npy"), random_tensor({2, 3, 4}, DType::f32, 1, 1));
  }

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

// Issue 33: --threads sets the run's thread count; the output is the same bits at every count,
// and a count beyond the limit is refused naming the flag.
// Issue 30: --dtype bf16|f16 runs the model in half by the README's rule. A half file stays half;
// f32 inputs and weights are rounded to nearest. y is what the library's half forward gives:
// f16 written as numpy's float16, bf16 (which numpy lacks) as float32 holding the bf16 values.
TEST_F(CliRun, HalfDtypesRunAndWriteWhatTheLibraryComputes) {
  save_small_gru();
  for (DType half : {DType::bf16, DType::f16}) {
    const std::string name = to_string(half);
    const CliResult r = run_cli("run --weights " + path("gru.safetensors") + " --input " + path("x.npy") +
                                " --output " + path("y_" + name + ".npy") + " --dtype " + name);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    io::RNNLoadOptions load;
    load.dtype = half;
    RNN rnn(io::load_rnn(path("gru.safetensors"), load));
    const Tensor expected = rnn.forward(io::read_npy(path("x.npy")).to(half)).y;
    const Tensor got = io::read_npy(path("y_" + name + ".npy"));
    EXPECT_EQ(got.dtype(), half == DType::f16 ? DType::f16 : DType::f32) << name;
    ASSERT_EQ(got.numel(), expected.numel());
    EXPECT_EQ(relative_error(got.to(DType::f64), expected.to(DType::f64)), 0.0) << name;
  }
}

TEST_F(CliRun, ThreadsFlagGivesTheSameOutputAtEveryCount) {
  save_small_gru();
  std::vector<double> first;
  for (const char* threads : {"1", "2", "3", "0"}) {
    const std::string y = path(std::string("y") + threads + ".npy");
    const CliResult r = run_cli("run --weights " + path("gru.safetensors") + " --input " + path("x.npy") +
                                " --output " + y + " --threads " + threads);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const std::vector<double> out = to_vector(io::read_npy(y));
    if (first.empty()) first = out;
    EXPECT_EQ(out, first) << "--threads " << threads;
  }
  const CliResult bad = run_cli("run --weights " + path("gru.safetensors") + " --input " + path("x.npy") +
                                " --output " + path("bad.npy") + " --threads 100000");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("--threads"), std::string::npos) << bad.output;
  EXPECT_FALSE(std::filesystem::exists(path("bad.npy")));
}

// Issue 32 items 3 and 4 as a user types them: an nn.LSTMCell state dict under a module prefix
// runs as a one-layer LSTM (the same output as the layer names give), and without --prefix the
// error names the module that holds it.
TEST_F(CliRun, CellModuleStateDictRunsAndThePrefixHintNamesIt) {
  RNNDescriptor d;
  d.cell = CellKind::lstm;
  d.input_size = 4;
  d.hidden_size = 5;
  const RNN rnn(d, DType::f32, "cpu", 3);
  std::vector<io::NamedTensor> cell_names;
  const Tensor conv = Tensor::zeros({2, 1, 3}, DType::f32);
  cell_names.push_back({"stft_conv.weight", conv.view()});
  for (const ParameterInfo& p : rnn.weights().parameters()) {
    cell_names.push_back({"decoder.lstm_cell." + p.name.substr(0, p.name.rfind("_l0")), rnn.weights().get(p.name)});
  }
  io::write_safetensors(path("speech.safetensors"), cell_names, {{"cell", "lstm"}});
  io::save_rnn(path("layers.safetensors"), rnn.weights());
  io::write_npy(path("x.npy"), random_tensor({3, 2, 4}, DType::f32, 1, 4));

  const CliResult hint = run_cli("run --weights " + path("speech.safetensors") + " --input " + path("x.npy") +
                                 " --output " + path("y.npy"));
  EXPECT_EQ(hint.exit_code, 2) << hint.output;
  EXPECT_NE(hint.output.find("under prefix 'decoder.lstm_cell.': pass it"), std::string::npos) << hint.output;

  const CliResult cell = run_cli("run --weights " + path("speech.safetensors") + " --prefix decoder.lstm_cell. --input " +
                                 path("x.npy") + " --output " + path("y_cell.npy"));
  ASSERT_EQ(cell.exit_code, 0) << cell.output;
  const CliResult layers = run_cli("run --weights " + path("layers.safetensors") + " --input " + path("x.npy") +
                                   " --output " + path("y_layers.npy"));
  ASSERT_EQ(layers.exit_code, 0) << layers.output;
  EXPECT_EQ(to_vector(io::read_npy(path("y_cell.npy"))), to_vector(io::read_npy(path("y_layers.npy"))));
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
      {base + " --input " + path("x.npy") + " --dtype f8", "--dtype f8: expected f32, f64, bf16 or f16"},
      {"run --input " + path("x.npy"), "--weights"},
      // Issue 22: outputs that collide with each other or with an input, or cannot be written,
      // are refused before any work; flags of the other mode are errors, not ignored.
      {base + " --input " + path("x.npy") + " --hn " + path("y.npy"), "--hn " + path("y.npy") + " is the same file as --output"},
      {"run --weights " + path("gru.safetensors") + " --input " + path("x.npy") + " --output " + path("x.npy"),
       "is the same file as the input --input"},
      {base + " --input " + path("x.npy") + " --hn " + path("gru.safetensors"), "is the same file as the input --weights"},
      {base + " --input " + path("x.npy") + " --hn " + path("no/dir/hn.npy"), "does not exist"},
      {base + " --input " + path("x.npy") + " --text " + path("x.npy"), "--text applies only with --checkpoint"},
      {"run --checkpoint " + path("gru.safetensors") + " --weights " + path("gru.safetensors") + " --output " +
           path("y.npy"),
       "--weights does not apply with --checkpoint"},
      {"run --weights " + path("deep.safetensors") + " --input " + path("x.npy") + " --output " + path("y.npy"),
       "nests arrays and objects more than"},
      {"run --checkpoint " + path("deep.safetensors") + " --text - --output " + path("y.npy"), "nests"},
  };
  // 100,000 nested brackets in the header once crashed every reader of it (a stack overflow).
  {
    const std::string header = std::string(100000, '[') + std::string(100000, ']');
    std::string bytes;
    for (int i = 0; i < 8; ++i) bytes += static_cast<char>(header.size() >> (8 * i));
    std::ofstream(path("deep.safetensors"), std::ios::binary) << bytes << header;
  }
  for (const Case& c : cases) {
    const CliResult r = run_cli(c.args);
    EXPECT_NE(r.exit_code, 0) << c.args;
    EXPECT_NE(r.output.find(c.expect), std::string::npos) << c.args << "\n" << r.output;
    EXPECT_FALSE(std::ifstream(path("y.npy")).good()) << "y.npy written by a failing run: " << c.args;
  }
}

// Issue 22: --output /dev/null turned the device into a regular file and a 0600 file came back
// 0644. Outputs keep what they are: a link to a device stays a link, the device gets the bytes;
// an existing file keeps its mode; "-" is standard output.
TEST_F(CliRun, OutputsKeepWhatTheyAre) {
  RNNDescriptor d;
  d.cell = CellKind::rnn_relu;
  d.input_size = 3;
  d.hidden_size = 4;
  RNN rnn(d, DType::f32, "cpu", 2);
  io::write_safetensors(path("relu.safetensors"), {{"weight_ih_l0", rnn.weights().get("weight_ih_l0")},
                                                  {"weight_hh_l0", rnn.weights().get("weight_hh_l0")},
                                                  {"bias_ih_l0", rnn.weights().get("bias_ih_l0")},
                                                  {"bias_hh_l0", rnn.weights().get("bias_hh_l0")}});
  io::write_npy(path("x.npy"), random_tensor({2, 1, 3}, DType::f32, 1, 1));
  const std::string base = "run --weights " + path("relu.safetensors") + " --input " + path("x.npy");

  ASSERT_EQ(::symlink("/dev/null", path("null.npy").c_str()), 0);
  CliResult r = run_cli(base + " --output " + path("null.npy") + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  struct stat st{};
  ASSERT_EQ(::lstat(path("null.npy").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  // No metadata says relu: the guess (tanh) is announced.
  EXPECT_NE(r.output.find("warning"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("rnn_tanh"), std::string::npos) << r.output;
  EXPECT_EQ(run_cli(base + " --cell rnn_relu --output " + path("y.npy") + " 2>&1").output.find("warning"),
            std::string::npos);

  std::ofstream(path("private.npy")) << "old";
  ASSERT_EQ(::chmod(path("private.npy").c_str(), 0600), 0);
  r = run_cli(base + " --cell rnn_relu --output " + path("private.npy"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_EQ(::stat(path("private.npy").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(to_vector(io::read_npy(path("private.npy"))), to_vector(io::read_npy(path("y.npy"))));

  r = run_command("(" + std::string(GPURNN_CLI_PATH) + " " + base + " --cell rnn_relu --output - > " +
                  path("stdout.npy") + ")");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_bytes(path("stdout.npy")), read_bytes(path("y.npy")));
}

// Issue 34: a stray weight_ih_l5 in a one-layer file was reported as "'weight_ih_l1' is missing".
TEST_F(CliRun, StrayLayerTensorIsNamed) {
  save_small_gru();
  const io::SafetensorsReader file(path("gru.safetensors"));
  std::vector<Tensor> keep;
  std::vector<io::NamedTensor> tensors;
  for (const io::SafetensorsRecord& r : file.records()) {
    keep.push_back(file.read(r.name));
    tensors.push_back({r.name, keep.back().view()});
  }
  const Tensor stray = Tensor::zeros({15, 5}, DType::f32);
  tensors.push_back({"weight_ih_l5", stray.view()});
  io::write_safetensors(path("stray.safetensors"), tensors, file.metadata());
  const CliResult r = run_cli("run --weights " + path("stray.safetensors") + " --input " + path("x.npy") +
                              " --output " + path("y.npy") + " 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("'weight_ih_l5' is unexpected"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("is missing"), std::string::npos) << r.output;
}

// As the user typed it (issue 34): --output over a bigger file on /dev/shm gave exit 0 and the
// new bytes followed by the old ones; the output is now the complete new file.
TEST_F(CliRun, OutputOnDevShmReplacesTheWholeFile) {
  if (::access("/dev/shm", W_OK) != 0) GTEST_SKIP() << "no writable /dev/shm";
  save_small_gru();
  const std::string out = "/dev/shm/gpurnn_cli_run_" + std::to_string(::getpid()) + ".npy";
  { std::ofstream(out) << std::string(100000, 'x'); }
  const std::string base = "run --weights " + path("gru.safetensors") + " --input " + path("x.npy") + " --output ";
  const CliResult r = run_cli(base + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_EQ(run_cli(base + path("y.npy")).exit_code, 0);
  const std::string written = read_bytes(out);
  ::unlink(out.c_str());
  EXPECT_EQ(written.size(), read_bytes(path("y.npy")).size()) << "old bytes left after the new ones";
  EXPECT_EQ(written, read_bytes(path("y.npy")));
}

// --device cuda without a usable GPU gives the reason `gpurnn info` shows, not only a count.
TEST_F(CliRun, UnavailableCudaDeviceSaysWhy) {
  save_small_gru();
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

// Issue 34 item 7: a FIFO with no writer as an input hung `gpurnn run` forever (open(2) waits for
// a writer). Every input flag refuses what is not a regular file at once, naming it; `timeout`
// turns a hang into a failure rather than a stuck test.
TEST_F(CliRun, FifoInputIsRefusedAtOnce) {
  save_small_gru();
  const std::string fifo = path("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const CliResult trained = run_cli("train sort --device cpu --progress none --steps 1 --hidden 8 --batch 4 "
                                    "--eval-examples 4 --save " + path("sort.safetensors"));
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  const std::string x = " --input " + path("x.npy");
  const std::string weights = "run --weights " + path("gru.safetensors");
  const std::string out = " --output " + path("y.npy");
  for (const std::string& args : {"run --weights " + fifo + x + out, weights + " --input " + fifo + out,
                                  weights + x + " --lengths " + fifo + out, weights + x + " --h0 " + fifo + out,
                                  weights + x + " --c0 " + fifo + out, "run --checkpoint " + fifo + " --text -" + out,
                                  "run --checkpoint " + path("sort.safetensors") + " --text " + fifo + out}) {
    const CliResult r = run_command("timeout 10 " + std::string(GPURNN_CLI_PATH) + " " + args + " < /dev/null");
    EXPECT_EQ(r.exit_code, 2) << args << " (124: it hung)\n" << r.output;
    EXPECT_NE(r.output.find("'" + fifo + "': not a regular file"), std::string::npos) << args << "\n" << r.output;
    EXPECT_FALSE(std::ifstream(path("y.npy")).good()) << args;
  }
  // The documented "-" still reads standard input.
  const CliResult piped = run_command("echo '3 1 2' | " + std::string(GPURNN_CLI_PATH) + " run --checkpoint " +
                                      path("sort.safetensors") + " --text -");
  EXPECT_EQ(piped.exit_code, 0) << piped.output;
  EXPECT_NE(piped.output.find("sorted: "), std::string::npos) << piped.output;
}

}  // namespace
}  // namespace gpurnn::testing
