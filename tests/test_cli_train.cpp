// `gpurnn train` end to end: a short run of every task prints its report and the result line;
// --save/--resume round trip; bad input is a clear message and a non-zero exit, with nothing
// half-written.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test_support.h"

#ifndef GPURNN_CLI_PATH
#error "GPURNN_CLI_PATH must name the gpurnn executable"
#endif

namespace gpurnn::testing {
namespace {

// `gpurnn train ARGS`, on the cpu without a progress display unless ARGS say otherwise.
CommandResult train(const std::string& args) {
  std::string defaults;
  if (args.find("--device") == std::string::npos) defaults += " --device cpu";
  if (args.find("--progress") == std::string::npos) defaults += " --progress none";
  return run_command(std::string(GPURNN_CLI_PATH) + " train" + defaults + " " + args + " 2>&1");
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

class TrainCli : public ::testing::TestWithParam<const char*> {};

TEST_P(TrainCli, ShortRunReportsAndEndsWithTheResultLine) {
  const std::string task = GetParam();
  const CommandResult r = train(task + " --steps 3 --hidden 8 --seq-len 20 --batch 4 --sample 20 --eval-batches 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "gpurnn train " + task + (task == "copy" ? ": gru" : ": lstm"))) << r.output;
  EXPECT_TRUE(contains(r.output, "\nbefore: ")) << r.output;
  EXPECT_TRUE(contains(r.output, "\nafter:  ")) << r.output;
  const std::size_t last = r.output.rfind("result: task=" + task + " device=cpu ");
  ASSERT_NE(last, std::string::npos) << r.output;
  EXPECT_EQ(r.output.find('\n', last), r.output.size() - 1) << "the result line must be the last line";
  EXPECT_TRUE(contains(r.output.substr(last), " steps=3 seconds=")) << r.output;
}

INSTANTIATE_TEST_SUITE_P(Train, TrainCli, ::testing::Values("charlm", "timeseries", "adding", "copy", "classify"));

TEST(TrainCliCheckpoint, SaveThenResumeContinuesToTheStepCount) {
  ScratchDir dir;
  const std::string ckpt = dir.path() + "/adding.safetensors";
  const CommandResult first = train("adding --steps 4 --hidden 8 --seq-len 10 --save " + ckpt);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_TRUE(contains(first.output, "saved checkpoint " + ckpt + " (step 4)")) << first.output;
  const CommandResult resumed = train("--resume " + ckpt + " --steps 6 --seq-len 10");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_TRUE(contains(resumed.output, "resumed from " + ckpt + " at step 4")) << resumed.output;
  EXPECT_TRUE(contains(resumed.output, "result: task=adding")) << resumed.output;
  EXPECT_TRUE(contains(resumed.output, " steps=6 ")) << resumed.output;
  // Another architecture: refused, naming the flag and both values.
  const CommandResult wider = train("--resume " + ckpt + " --hidden 16");
  EXPECT_NE(wider.exit_code, 0);
  EXPECT_TRUE(contains(wider.output, "--hidden 16 does not match the checkpoint")) << wider.output;
  EXPECT_TRUE(contains(wider.output, "trained with 8")) << wider.output;
  const CommandResult other_task = train("copy --resume " + ckpt);
  EXPECT_NE(other_task.exit_code, 0);
  EXPECT_TRUE(contains(other_task.output, "task copy does not match")) << other_task.output;
}

// --device cuda without a usable GPU gives the reason `gpurnn info` shows, not only a count.
TEST(TrainCliDevice, UnavailableCudaDeviceSaysWhy) {
  const int count = cuda_device_count();
  const std::string device = count == 0 ? "cuda" : "cuda:" + std::to_string(count);
  const std::string why = count == 0 ? "no CUDA device (" + cuda_unavailable_reason() + ")"
                                     : std::to_string(count) + " CUDA device(s)";
  const CommandResult r = train("adding --steps 1 --hidden 8 --device " + device);
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "--device " + device + ": not available")) << r.output;
  EXPECT_TRUE(contains(r.output, why)) << "expected '" << why << "' in\n" << r.output;
}

struct BadInput {
  const char* name;
  const char* args;  // {dir} is replaced by a scratch directory holding the files below
  const char* expected;
};

const BadInput kBadInputs[] = {
    {"unknown_task", "nope", "nope"},
    {"unknown_flag", "adding --nonsense 3", "--nonsense"},
    {"unreadable_text", "charlm --text {dir}/missing.txt", "missing.txt"},
    {"empty_corpus", "charlm --text {dir}/empty.txt", "empty"},
    {"missing_column", "timeseries --csv {dir}/series.csv --column price", "price"},
    {"non_numeric_cell", "timeseries --csv {dir}/bad.csv --column value", "abc"},
    {"seq_len_larger_than_data", "charlm --text {dir}/short.txt --seq-len 500", "seq_len"},
    {"bad_cell", "adding --cell transformer", "transformer"},
    {"bad_device", "adding --device tpu", "--device tpu"},
    {"bad_lr", "adding --lr -1 --steps 2", "base_lr"},
    {"bad_optimizer", "adding --optimizer lion --steps 2", "lion"},
    {"bad_progress", "adding --progress fancy --steps 2", "--progress fancy"},
    {"resume_missing_file", "--resume {dir}/none.safetensors", "none.safetensors"},
    {"resume_not_a_checkpoint", "--resume {dir}/series.csv", "series.csv"},
};

class TrainCliBadInput : public ::testing::TestWithParam<BadInput> {};

TEST_P(TrainCliBadInput, IsAClearErrorAndWritesNothing) {
  ScratchDir dir;
  write_file(dir.path() + "/empty.txt", "");
  write_file(dir.path() + "/short.txt", "just a few bytes of text\n");
  write_file(dir.path() + "/series.csv", "time,value\n0,1.5\n1,2.5\n");
  std::string bad = "time,value\n";
  for (int i = 0; i < 50; ++i) bad += std::to_string(i) + "," + (i == 7 ? "abc" : "1.0") + "\n";
  write_file(dir.path() + "/bad.csv", bad);
  std::string args = GetParam().args;
  for (std::size_t at; (at = args.find("{dir}")) != std::string::npos;) args.replace(at, 5, dir.path());
  const std::string save = dir.path() + "/out.safetensors";
  const CommandResult r = train(args + " --save " + save);
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, GetParam().expected)) << r.output;
  EXPECT_FALSE(std::filesystem::exists(save));
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_TRUE(contains(std::string(".txt.csv"), entry.path().extension().string()))
        << "left behind: " << entry.path();
  }
}

INSTANTIATE_TEST_SUITE_P(Train, TrainCliBadInput, ::testing::ValuesIn(kBadInputs),
                         [](const auto& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace gpurnn::testing
