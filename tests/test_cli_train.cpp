// `gpurnn train` end to end: a short run of every task prints its report and the result line;
// --save/--resume round trip; bad input is a clear message and a non-zero exit, with nothing
// half-written.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "checkpoint_edit.h"
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
  const std::string sample = task == "charlm" ? " --sample 20" : "";  // only charlm samples
  const CommandResult r = train(task + " --steps 3 --hidden 8 --seq-len 20 --batch 4 --eval-batches 2" + sample);
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

// The tiny adding run of the tests below: ~1 s for 3000 steps.
const std::string kTinyAdding = "adding --steps 3000 --hidden 16 --batch 8 --seq-len 10";

// `gpurnn train ARGS` in the background; once its stdout shows `ready` (a line prefix), `kill
// -SIGNAL` it. Returns its exit code and output.
CommandResult train_and_signal(const std::string& args, const std::string& ready, const std::string& signal,
                               const ScratchDir& dir) {
  const std::string log = dir.file("signalled.txt");
  const std::string script = dir.file("signal.sh");
  write_file(script, std::string(GPURNN_CLI_PATH) + " train --device cpu --progress none " + args + " > " + log +
                         " 2>&1 &\npid=$!\nn=0\nwhile ! grep -q '^" + ready + "' " + log +
                         " && [ $n -lt 3000 ]; do sleep 0.01; n=$((n+1)); done\nkill -" + signal +
                         " $pid\nwait $pid\nrc=$?\ncat " + log + "\nexit $rc\n");
  return run_command("bash " + script);
}

// The step a resumed run starts at, from its "resumed from FILE at step N" line (-1: none).
long resumed_step(const std::string& output) {
  const std::size_t at = output.find(" at step ");
  return output.find("resumed from ") == std::string::npos || at == std::string::npos
             ? -1
             : std::stol(output.substr(at + 9));
}

// Issue 22: a signal lost all progress, and a resumed cosine schedule spanned only the resumed
// run's --steps. Now SIGINT saves a checkpoint and exits 130; resuming it with no flags continues
// the same schedule to the same step count, ending with the very checkpoint an uninterrupted run
// writes, byte for byte.
TEST(TrainCliCheckpoint, InterruptedRunResumesToTheUninterruptedResult) {
  ScratchDir dir;
  const CommandResult whole = train(kTinyAdding + " --save " + dir.file("whole.ck"));
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  const CommandResult stopped = train_and_signal(kTinyAdding + " --save " + dir.file("part.ck"), "before:", "INT", dir);
  ASSERT_EQ(stopped.exit_code, 130) << stopped.output;
  EXPECT_TRUE(contains(stopped.output, "stopped by SIGINT at step ")) << stopped.output;
  EXPECT_TRUE(contains(stopped.output, "saved checkpoint " + dir.file("part.ck"))) << stopped.output;
  EXPECT_FALSE(contains(stopped.output, "after:")) << stopped.output;
  const CommandResult resumed = train("--resume " + dir.file("part.ck") + " --save " + dir.file("resumed.ck"));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  const long at = resumed_step(resumed.output);
  EXPECT_GT(at, 0) << resumed.output;
  EXPECT_LT(at, 3000) << resumed.output;
  EXPECT_FALSE(contains(resumed.output, "schedule:")) << "the schedule continues unchanged\n" << resumed.output;
  EXPECT_TRUE(contains(resumed.output, " steps=3000 ")) << resumed.output;
  EXPECT_EQ(read_bytes(dir.file("resumed.ck")), read_bytes(dir.file("whole.ck")));

  // SIGTERM: 143; without --save nothing is written, and it says so.
  const CommandResult terminated = train_and_signal(kTinyAdding, "before:", "TERM", dir);
  EXPECT_EQ(terminated.exit_code, 143) << terminated.output;
  EXPECT_TRUE(contains(terminated.output, "stopped by SIGTERM")) << terminated.output;
  EXPECT_TRUE(contains(terminated.output, "nothing saved")) << terminated.output;
}

// --save-every: a run killed outright (SIGKILL, no handler) leaves its last periodic checkpoint,
// which resumes to the uninterrupted result.
TEST(TrainCliCheckpoint, SaveEveryLeavesACheckpointAKilledRunResumesFrom) {
  ScratchDir dir;
  const CommandResult whole = train(kTinyAdding + " --save " + dir.file("whole.ck"));
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  const std::string ck = dir.file("every.ck");
  const std::string script = dir.file("kill.sh");
  write_file(script, std::string(GPURNN_CLI_PATH) + " train --device cpu --progress none " + kTinyAdding +
                         " --save-every 100 --save " + ck + " > /dev/null 2>&1 &\npid=$!\nn=0\nwhile [ ! -e " + ck +
                         " ] && [ $n -lt 3000 ]; do sleep 0.005; n=$((n+1)); done\nkill -KILL $pid\nwait $pid\n"
                         "exit 0\n");
  ASSERT_EQ(run_command("bash " + script).exit_code, 0);
  const CommandResult resumed = train("--resume " + ck + " --save " + dir.file("resumed.ck"));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  const long at = resumed_step(resumed.output);
  EXPECT_GT(at, 0) << resumed.output;
  EXPECT_EQ(at % 100, 0) << resumed.output;
  EXPECT_EQ(read_bytes(dir.file("resumed.ck")), read_bytes(dir.file("whole.ck")));
  const CommandResult header = train("adding --steps 2 --hidden 8 --save-every 1 --save " + dir.file("h.ck"));
  EXPECT_TRUE(contains(header.output, "checkpoints: every 1 steps and at the end")) << header.output;
}

// A resume continues the checkpoint's data and schedule: other data settings are refused, the
// steps must go past the checkpoint's, and a schedule changed by flags is announced.
TEST(TrainCliCheckpoint, ResumeRefusesOtherDataAndStepsNotPastTheCheckpoint) {
  ScratchDir dir;
  const std::string ck = dir.file("done.ck");
  ASSERT_EQ(train("adding --steps 20 --hidden 8 --batch 4 --seq-len 6 --seed 3 --save " + ck).exit_code, 0);
  struct Case {
    std::string args, expected;
  };
  const Case refused[] = {
      {" --batch 8", "--batch 8 does not match the checkpoint"},
      {" --seq-len 7", "--seq-len 7 does not match the checkpoint"},
      {" --seed 4", "--seed 4 does not match the checkpoint"},
      {" --steps 20", "--steps 20: the checkpoint " + ck + " is at step 20 already"},
      {" --steps 5", "give more steps than 20"},
      {"", "is at step 20, the end of its run of 20 steps; give --steps above 20"},
  };
  for (const Case& c : refused) {
    const CommandResult r = train("--resume " + ck + c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, c.expected)) << c.args << "\n" << r.output;
  }
  // The checkpoint's settings are taken when not given, and matching ones are accepted.
  const CommandResult longer = train("--resume " + ck + " --steps 30 --batch 4 --seed 3");
  ASSERT_EQ(longer.exit_code, 0) << longer.output;
  EXPECT_TRUE(contains(longer.output, "batch 4,")) << longer.output;
  EXPECT_TRUE(contains(longer.output, "seed 3")) << longer.output;
  EXPECT_TRUE(contains(longer.output, "schedule: cosine over 30 steps")) << longer.output;
  EXPECT_TRUE(contains(longer.output, "the checkpoint's was cosine over 20 steps")) << longer.output;
  EXPECT_TRUE(contains(longer.output, "not the same as one uninterrupted run")) << longer.output;
  // Without the flags, the checkpoint's seed and batch are the run's, and the header says so.
  const CommandResult adopted = train("--resume " + ck + " --steps 25");
  ASSERT_EQ(adopted.exit_code, 0) << adopted.output;
  EXPECT_TRUE(contains(adopted.output, ", seed 3\n")) << adopted.output;
  EXPECT_TRUE(contains(adopted.output, "batch 4,")) << adopted.output;
}

// Issue 34: a tampered checkpoint resumed quietly (`seed: "-1"` wrapped to 2^64-1, flipped data
// bytes loaded, a carried state of another batch was dropped, a missing state.c accepted) or
// failed with `gpurnn: error: stoull`. Each is refused naming the file and the key or tensor; a
// checkpoint of an older build (no checksum, no format_version) still resumes.
TEST(TrainCliCheckpoint, TamperedCheckpointsAreRefusedNamingTheFileAndTheKey) {
  ScratchDir dir;
  const std::string ck = dir.file("good.ck");
  ASSERT_EQ(train("adding --steps 2 --hidden 8 --batch 4 --seq-len 6 --save " + ck).exit_code, 0);
  const auto with_meta = [&](const std::string& name, const std::string& key, const std::string& value) {
    rewrite_checkpoint(ck, dir.file(name), [&](CheckpointTensors&, CheckpointMetadata& m) { m[key] = value; });
    return dir.file(name);
  };
  const auto with_state = [&](const std::string& name, const std::function<void(CheckpointTensors&)>& edit) {
    rewrite_checkpoint(ck, dir.file(name), [&](CheckpointTensors& t, CheckpointMetadata&) { edit(t); });
    return dir.file(name);
  };
  const std::string flipped = dir.file("flipped.ck");
  std::filesystem::copy_file(ck, flipped);
  flip_byte(flipped);
  struct Case {
    std::string path;
    std::vector<std::string> expected;
  };
  const Case cases[] = {
      {with_meta("seed.ck", "seed", "-1"), {"seed.ck", "metadata 'seed' is '-1'", "expected an integer"}},
      {with_meta("batch.ck", "task.batch", "4x"), {"batch.ck", "metadata 'task.batch' is '4x'"}},
      {with_meta("seq.ck", "task.seq_len", "0"), {"seq.ck", "metadata 'task.seq_len' is '0'"}},
      {with_meta("step.ck", "step", "99999999999999999999"), {"step.ck", "metadata 'step'"}},
      {flipped, {"flipped.ck", "checksum mismatch: the file was changed or corrupted"}},
      {with_state("rows.ck",
                  [](CheckpointTensors& t) {
                    for (auto& [name, tensor] : t) {
                      if (name == "state.h") tensor = Tensor::zeros({tensor.dim(0), 5, tensor.dim(2)}, tensor.dtype());
                    }
                  }),
       {"rows.ck", "tensor 'state.h' has shape", "batch rows"}},
      {with_state("no_c.ck",
                  [](CheckpointTensors& t) {
                    t.erase(std::remove_if(t.begin(), t.end(), [](const auto& e) { return e.first == "state.c"; }),
                            t.end());
                  }),
       {"no_c.ck", "no tensor 'state.c'"}},
  };
  for (const Case& c : cases) {
    const CommandResult r = train("--resume " + c.path + " --steps 4");
    EXPECT_EQ(r.exit_code, 2) << c.path << "\n" << r.output;
    for (const std::string& part : c.expected) EXPECT_TRUE(contains(r.output, part)) << part << "\n" << r.output;
    EXPECT_FALSE(contains(r.output, "stoll") || contains(r.output, "stoull")) << r.output;
    EXPECT_FALSE(contains(r.output, "forward: argument")) << r.output;
  }
  const std::string older = dir.file("older.ck");
  strip_checksum(ck, older);
  const CommandResult resumed = train("--resume " + older + " --steps 4");
  EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_TRUE(contains(resumed.output, "resumed from " + older + " at step 2")) << resumed.output;
}

// The value of `key` in the first line of `output` starting with `prefix` ("before:" lines hold
// "key value", the result line "key=value"); NaN when absent.
double reported(const std::string& output, const std::string& prefix, const std::string& key) {
  const std::size_t line = output.find("\n" + prefix);
  if (line == std::string::npos) return std::nan("");
  const std::size_t end = output.find('\n', line + 1);
  const std::string text = output.substr(line, end == std::string::npos ? std::string::npos : end - line);
  for (const char* sep : {" ", "="}) {
    const std::size_t at = text.find(" " + key + sep);
    if (at != std::string::npos) return std::stod(text.substr(at + key.size() + 2));
  }
  return std::nan("");
}

// Issue 30: --dtype bf16 trains with f32 master weights and the RNN in bf16. It learns, it
// differs from the f32 run, its checkpoint stores f32 weights and records both dtypes, and a
// resume continues exactly (a constant schedule, so the stopped run's schedule is the whole
// run's); a --dtype other than the checkpoint's is refused both ways.
TEST(TrainCliMixedPrecision, Bf16TrainsAndResumesExactly) {
  ScratchDir dir;
  const std::string flags = "adding --hidden 16 --batch 8 --seq-len 10 --schedule constant --warmup 0";
  const CommandResult whole = train(flags + " --dtype bf16 --steps 800 --save " + dir.file("whole.ck"));
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  EXPECT_TRUE(contains(whole.output, "lstm, 1 layer(s) of 16, mixed precision: f32 weights, the RNN in bf16"))
      << whole.output;
  const double before = reported(whole.output, "before:", "mse");
  const double after = reported(whole.output, "result:", "mse");
  EXPECT_LT(after, 0.5 * before) << whole.output;
  const CommandResult f32 = train(flags + " --steps 800");
  ASSERT_EQ(f32.exit_code, 0) << f32.output;
  EXPECT_FALSE(contains(f32.output, "mixed precision")) << f32.output;
  EXPECT_NE(reported(f32.output, "result:", "mse"), after) << "bf16 computed as f32 does\n" << f32.output;
  {
    const io::SafetensorsReader file(dir.file("whole.ck"));
    EXPECT_EQ(file.metadata().at("dtype"), "f32");
    EXPECT_EQ(file.metadata().at("rnn_dtype"), "bf16");
    EXPECT_EQ(file.record("model.rnn.weight_hh_l0").dtype, "F32");
    EXPECT_EQ(file.record("state.h").dtype, "F32");
  }

  const CommandResult part = train(flags + " --dtype bf16 --steps 400 --save " + dir.file("part.ck"));
  ASSERT_EQ(part.exit_code, 0) << part.output;
  const CommandResult resumed =
      train("--resume " + dir.file("part.ck") + " --steps 800 --save " + dir.file("resumed.ck"));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_TRUE(contains(resumed.output, "mixed precision: f32 weights, the RNN in bf16")) << resumed.output;
  EXPECT_EQ(resumed_step(resumed.output), 400) << resumed.output;
  EXPECT_EQ(read_bytes(dir.file("resumed.ck")), read_bytes(dir.file("whole.ck")));

  const CommandResult other = train("--resume " + dir.file("part.ck") + " --steps 800 --dtype f32");
  EXPECT_EQ(other.exit_code, 2) << other.output;
  EXPECT_TRUE(contains(other.output, "--dtype f32 does not match the checkpoint " + dir.file("part.ck") +
                                         ", which was trained with bf16"))
      << other.output;
  ASSERT_EQ(train(flags + " --steps 2 --save " + dir.file("f32.ck")).exit_code, 0);
  const CommandResult into_bf16 = train("--resume " + dir.file("f32.ck") + " --steps 4 --dtype bfloat16");
  EXPECT_EQ(into_bf16.exit_code, 2) << into_bf16.output;
  EXPECT_TRUE(contains(into_bf16.output, "--dtype bf16 does not match the checkpoint " + dir.file("f32.ck") +
                                             ", which was trained with f32"))
      << into_bf16.output;
  // A checkpoint of an older build records no rnn_dtype: it computed in its dtype, f32.
  rewrite_checkpoint(dir.file("f32.ck"), dir.file("older.ck"),
                     [](CheckpointTensors&, CheckpointMetadata& m) { m.erase("rnn_dtype"); });
  EXPECT_EQ(train("--resume " + dir.file("older.ck") + " --steps 4").exit_code, 0);
  const CommandResult older = train("--resume " + dir.file("older.ck") + " --steps 4 --dtype bf16");
  EXPECT_EQ(older.exit_code, 2) << older.output;
  EXPECT_TRUE(contains(older.output, "which was trained with f32")) << older.output;
}

// Issue 31: mixed precision on a device. The virtual device runs the cpu's arithmetic on device
// memory (the bf16 conversions of the weights, inputs and gradients on the device), so its run
// writes the very checkpoint the cpu's run does.
TEST(TrainCliMixedPrecision, Bf16OnAVirtualDeviceWritesTheCpusCheckpoint) {
  ScratchDir dir;
  const std::string flags = " train adding --progress none --steps 30 --hidden 8 --batch 4 --seq-len 6 --dtype bf16 ";
  const CommandResult cpu = run_command(std::string(GPURNN_CLI_PATH) + flags + "--device cpu --save " +
                                        dir.file("cpu.ck") + " 2>&1");
  ASSERT_EQ(cpu.exit_code, 0) << cpu.output;
  const CommandResult dev = run_command("GPURNN_VIRTUAL_DEVICES=1 " + std::string(GPURNN_CLI_PATH) + flags +
                                        "--device virtual --save " + dir.file("virtual.ck") + " 2>&1");
  ASSERT_EQ(dev.exit_code, 0) << dev.output;
  EXPECT_TRUE(contains(dev.output, "mixed precision: f32 weights, the RNN in bf16")) << dev.output;
  EXPECT_EQ(read_bytes(dir.file("virtual.ck")), read_bytes(dir.file("cpu.ck")));
}

// Issue 34: `0` silently meant the default for these flags; it is an error naming the flag.
TEST(TrainCliCounts, ZeroIsRefusedNotTakenAsTheDefault) {
  const std::pair<std::string, std::string> cases[] = {
      {"adding --seq-len 0", "--seq-len' must be at least 1, got 0"},
      {"adding --batch 0", "--batch' must be at least 1, got 0"},
      {"timeseries --horizon 0", "--horizon' must be at least 1, got 0"},
      {"sort --points 0", "--points' must be at least 1, got 0"},
      {"sort --eval-examples 0", "--eval-examples' must be at least 1, got 0"},
      {"charlm --embedding 0", "--embedding' must be at least 1, got 0"},
      {"adding --batch -3", "--batch' must be at least 1, got -3"},
  };
  for (const auto& [args, expected] : cases) {
    const CommandResult r = train(args + " --steps 1 --hidden 8");
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, expected)) << args << "\n" << r.output;
  }
}

// Issue 22: `--save /nonexistent/x` trained, then failed and lost the model. Where the checkpoint
// goes is checked before any work.
TEST(TrainCliCheckpoint, UnwritableOrCollidingSaveIsRefusedBeforeTraining) {
  ScratchDir dir;
  const std::string text = dir.file("corpus.txt");
  write_file(text, std::string(4000, 'a'));
  const std::pair<std::string, std::string> cases[] = {
      {"adding --save " + dir.file("no/such/out.ck"), "its directory " + dir.file("no/such") + " does not exist"},
      {"adding --save " + dir.path(), "is a directory"},
      {"charlm --text " + text + " --save " + text, "is the same file as the input --text"},
      {"adding --save-every 10", "--save-every needs --save FILE"},
  };
  for (const auto& [args, expected] : cases) {
    const CommandResult r = train(args + " --steps 2 --hidden 8");
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, expected)) << args << "\n" << r.output;
    EXPECT_FALSE(contains(r.output, "before:")) << "it trained first: " << args << "\n" << r.output;
  }
  EXPECT_EQ(read_bytes(text), std::string(4000, 'a'));
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
    // Issue 30: train takes bf16 (mixed precision) but not f16, which would need loss scaling.
    {"bad_dtype", "adding --dtype f16", "--dtype f16: training in f16 needs loss scaling"},
    {"f16_by_another_name", "adding --dtype half", "use --dtype bf16 (mixed precision"},
    {"integer_dtype", "adding --dtype i32", "--dtype i32: expected f32, f64 or bf16"},
    {"bf16_encoder_decoder", "sort --dtype bf16", "--dtype bf16: mixed precision is built for the sequence-model"},
    {"bad_device", "adding --device tpu", "--device tpu"},
    {"bad_lr", "adding --lr -1 --steps 2", "base_lr"},
    {"bad_optimizer", "adding --optimizer lion --steps 2", "lion"},
    {"bad_progress", "adding --progress fancy --steps 2", "--progress fancy"},
    {"resume_missing_file", "--resume {dir}/none.safetensors", "none.safetensors"},
    {"resume_not_a_checkpoint", "--resume {dir}/series.csv", "series.csv"},
    {"resume_deeply_nested_header", "--resume {dir}/deep.txt", "nests arrays and objects more than 32 deep"},
    // Issue 22: numbers out of range were clamped or wrapped; flags of other tasks were ignored.
    {"steps_out_of_range", "adding --steps 99999999999999999999", "--steps: 99999999999999999999 is out of range"},
    {"negative_seed", "adding --seed -1", "--seed: must not be negative"},
    {"hex_steps", "adding --steps 0x10", "expected a whole decimal number"},
    {"nan_lr", "adding --lr nan", "--lr: must be a finite number"},
    {"huge_threads", "adding --threads 100000", "'--threads' must be 0"},
    {"csv_for_charlm", "charlm --csv {dir}/series.csv", "--csv does not apply to task charlm"},
    {"points_for_adding", "adding --points 5", "--points does not apply to task adding"},
    {"sample_for_copy", "copy --sample 5", "--sample does not apply to task copy"},
    {"beam_for_classify", "classify --beam 3", "--beam does not apply to task classify"},
    {"column_without_csv", "timeseries --column value", "--column needs --csv"},
    {"momentum_with_adam", "adding --momentum 0.5", "--momentum applies to --optimizer sgd only"},
    {"save_every_negative", "adding --save-every -3", "--save-every"},
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
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');  // once a stack overflow
  std::string length;
  for (int i = 0; i < 8; ++i) length += static_cast<char>(deep.size() >> (8 * i));
  write_file(dir.path() + "/deep.txt", length + deep);
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


// Issue 34 item 7: `train charlm --text FIFO` with no writer hung forever (open(2) waits for a
// writer). Every file flag of train refuses what is not a regular file at once, naming it.
TEST(TrainCliFifo, FifoInputIsRefusedAtOnce) {
  ScratchDir dir;
  const std::string fifo = dir.path() + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const std::string& args : {"charlm --text " + fifo, "timeseries --csv " + fifo + " --column value",
                                  "--resume " + fifo}) {
    const CommandResult r = run_command("timeout 10 " + std::string(GPURNN_CLI_PATH) +
                                        " train --device cpu --progress none --steps 1 " + args + " < /dev/null");
    EXPECT_EQ(r.exit_code, 2) << args << " (124: it hung)\n" << r.output;
    EXPECT_TRUE(contains(r.output, "'" + fifo + "': not a regular file")) << args << "\n" << r.output;
  }
}

}  // namespace
}  // namespace gpurnn::testing
