// The gpurnn command on a virtual device (GPURNN_VIRTUAL_DEVICES, gpurnn/device.h): every training
// task, `run` on weights and on a checkpoint, `check` and `bench` take --device/--backend
// virtual:1, and since a virtual device computes with the cpu platform's code, what they print and
// write equals the cpu device's byte for byte (less the device's name and the timings). Skipped
// unless the process has two virtual devices (CTest sets GPURNN_VIRTUAL_DEVICES=2).

#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "gpurnn/gpurnn.h"
#include "gpurnn/io/npy.h"
#include "gpurnn/io/rnn_file.h"
#include "device/device_test_support.h"
#include "test_support.h"

namespace gpurnn::testing {
namespace {

CommandResult gpurnn(const std::string& args) { return run_command(std::string(GPURNN_CLI_PATH) + " " + args); }

// The output with the device's name and every timing taken out.
std::string without_device_and_time(const std::string& out) {
  std::string s = std::regex_replace(out, std::regex("(device[= ]|on )(cpu|virtual:1)"), "$1device");
  s = std::regex_replace(s, std::regex("seconds=[0-9.e+-]+"), "seconds");
  s = std::regex_replace(s, std::regex("[0-9.]+ ?(s|ms|us|µs)\\b"), "T");
  return std::regex_replace(s, std::regex("[0-9.]+ (steps|examples|tokens|samples)/s"), "R");
}

struct TaskRun {
  const char* task;
  const char* flags;
};

class CliVirtualTrain : public ::testing::TestWithParam<TaskRun> {};

TEST_P(CliVirtualTrain, EqualsTheCpuDevice) {
  GPURNN_REQUIRE_VIRTUAL_DEVICES();
  const TaskRun& t = GetParam();
  const std::string common = std::string("train ") + t.task + " --steps 3 --threads 1 --progress none " + t.flags;
  const CommandResult cpu = gpurnn(common + " --device cpu");
  const CommandResult dev = gpurnn(common + " --device virtual:1");
  ASSERT_EQ(cpu.exit_code, 0) << cpu.output;
  ASSERT_EQ(dev.exit_code, 0) << dev.output;
  EXPECT_NE(dev.output.find("device=virtual:1"), std::string::npos) << dev.output;
  EXPECT_EQ(without_device_and_time(dev.output), without_device_and_time(cpu.output));
}

INSTANTIATE_TEST_SUITE_P(
    EveryTask, CliVirtualTrain,
    ::testing::Values(TaskRun{"charlm", "--eval-batches 1 --sample 40 --hidden 32 --batch 8 --seq-len 20"},
                      TaskRun{"timeseries", "--eval-batches 1"}, TaskRun{"adding", "--eval-batches 1"},
                      TaskRun{"copy", "--eval-batches 1"}, TaskRun{"classify", "--eval-batches 1"},
                      TaskRun{"translate", "--eval-examples 20"}, TaskRun{"sort", "--eval-examples 20 --beam 2"},
                      TaskRun{"convex-hull", "--eval-examples 20"}, TaskRun{"tsp", "--eval-examples 20 --beam 2"}),
    [](const ::testing::TestParamInfo<TaskRun>& param_info) {
      return std::regex_replace(param_info.param.task, std::regex("-"), "_");
    });

TEST(CliVirtual, RunWeightsAndCheckpointEqualTheCpuDevice) {
  GPURNN_REQUIRE_VIRTUAL_DEVICES();
  const ScratchDir dir;
  RNNDescriptor d;
  d.cell = CellKind::lstm;
  d.input_size = 4;
  d.hidden_size = 6;
  d.num_layers = 2;
  d.bidirectional = true;
  RNN rnn(d, DType::f32, "cpu", 17);
  io::save_rnn(dir.file("model.safetensors"), rnn.weights());
  io::write_npy(dir.file("x.npy"), random_tensor({5, 3, 4}, DType::f32, 1, 1));
  const std::int32_t lengths[] = {5, 2, 4};
  io::write_npy(dir.file("len.npy"), Tensor::from_host<std::int32_t>({3}, lengths));
  for (const char* device : {"cpu", "virtual:1"}) {
    const std::string out = dir.file(std::string("y_") + device + ".npy");
    const CommandResult r = gpurnn("run --weights " + dir.file("model.safetensors") + " --input " + dir.file("x.npy") +
                                   " --lengths " + dir.file("len.npy") + " --output " + out + " --device " + device);
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  EXPECT_EQ(read_bytes(dir.file("y_virtual:1.npy")), read_bytes(dir.file("y_cpu.npy")));

  const std::string ck = dir.file("tsp.safetensors");
  const CommandResult trained = gpurnn("train tsp --steps 2 --eval-examples 5 --progress none --save " + ck);
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  std::string decoded[2];
  int k = 0;
  for (const char* device : {"cpu", "virtual:1"}) {
    const CommandResult r = run_command("echo '0.1 0.1  0.9 0.9  0.1 0.9  0.9 0.1  0.5 0.5' | " +
                                        std::string(GPURNN_CLI_PATH) + " run --checkpoint " + ck +
                                        " --text - --beam 3 --device " + device);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("tour:"), std::string::npos) << r.output;
    decoded[k++] = r.output;
  }
  EXPECT_EQ(without_device_and_time(decoded[1]), without_device_and_time(decoded[0]));
}

// A checkpoint saved on the device (its tensors copied to the host by the writer) and a resume
// onto the device write the very bytes the cpu device writes.
TEST(CliVirtual, SaveAndResumeWriteTheCpuCheckpoint) {
  GPURNN_REQUIRE_VIRTUAL_DEVICES();
  const ScratchDir dir;
  for (const char* task : {"classify", "charlm"}) {
    SCOPED_TRACE(task);
    for (const char* device : {"cpu", "virtual:1"}) {
      const std::string first = dir.file(std::string(task) + "_" + device + "_3.safetensors");
      const std::string flags = std::string(" --eval-batches 1 --progress none --threads 1 --device ") + device;
      const std::string extra = std::string(task) == "charlm" ? " --hidden 16 --batch 4 --seq-len 10 --sample 0" : "";
      ASSERT_EQ(gpurnn(std::string("train ") + task + " --steps 3 --save " + first + flags + extra).exit_code, 0);
      const CommandResult resumed = gpurnn("train --resume " + first + " --steps 5 --save " +
                                           dir.file(std::string(task) + "_" + device + "_5.safetensors") + flags +
                                           (std::string(task) == "charlm" ? " --sample 0" : ""));
      ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
    }
    for (const char* step : {"_3", "_5"}) {
      EXPECT_EQ(read_bytes(dir.file(std::string(task) + "_virtual:1" + step + ".safetensors")),
                read_bytes(dir.file(std::string(task) + "_cpu" + step + ".safetensors")))
          << step;
    }
  }
}

TEST(CliVirtual, CheckAndBenchRunOnIt) {
  GPURNN_REQUIRE_VIRTUAL_DEVICES();
  const CommandResult check = gpurnn("check --backend virtual");
  ASSERT_EQ(check.exit_code, 0) << check.output;
  EXPECT_NE(check.output.find("\nvirtual  lstm "), std::string::npos) << check.output;
  const CommandResult all = gpurnn("check --backend all");
  ASSERT_EQ(all.exit_code, 0) << all.output;
  EXPECT_NE(all.output.find("\nvirtual  gru "), std::string::npos) << all.output;
  const CommandResult bench = gpurnn("bench --backend virtual:1 --grid tiny --cell gru --repeat 1");
  ASSERT_EQ(bench.exit_code, 0) << bench.output;
  EXPECT_NE(bench.output.find("gru/infer/virtual"), std::string::npos) << bench.output;
  const CommandResult info = gpurnn("info");
  EXPECT_NE(info.output.find("virtual:1 "), std::string::npos) << info.output;
}

TEST(CliVirtual, MissingVirtualDeviceSaysHowToGetOne) {
  const CommandResult r = run_command("GPURNN_VIRTUAL_DEVICES= " + std::string(GPURNN_CLI_PATH) +
                                      " train adding --steps 1 --device virtual:1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("set GPURNN_VIRTUAL_DEVICES=N"), std::string::npos) << r.output;
  const CommandResult bad = run_command("GPURNN_VIRTUAL_DEVICES=lots " + std::string(GPURNN_CLI_PATH) + " info");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("GPURNN_VIRTUAL_DEVICES is 'lots'"), std::string::npos) << bad.output;
}

}  // namespace
}  // namespace gpurnn::testing
