// Issue 32, using a trained model: `gpurnn generate` continues a prompt with a charlm checkpoint
// (deterministic for a seed, the prompt echoed, the length kept, the same bytes on a virtual device
// as on the cpu), and `gpurnn forecast` rolls a timeseries checkpoint forward from a CSV's history
// (CSV out, in the data's own scale, --output written atomically). Bad input is an error naming
// the flag; a checkpoint of an older build says what it lacks.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "checkpoint_edit.h"
#include "test_support.h"

#ifndef GPURNN_CLI_PATH
#error "GPURNN_CLI_PATH must name the gpurnn executable"
#endif

namespace gpurnn::testing {
namespace {

const std::string kCli = GPURNN_CLI_PATH;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

void write_file(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

struct Split {
  int exit_code;
  std::string out, err;
};

// `gpurnn ARGS` (on GPURNN_VIRTUAL_DEVICES=1), its stdout and stderr apart.
Split gpurnn(const std::string& args, const ScratchDir& dir) {
  const std::string err = dir.file("stderr.txt");
  const CommandResult r = run_command("(GPURNN_VIRTUAL_DEVICES=1 " + kCli + " " + args + " 2> " + err + ")");
  return {r.exit_code, r.output, read_bytes(err)};
}

std::string train_tiny(const std::string& args, const ScratchDir& dir) {
  const std::string ck = dir.file(args.substr(0, args.find(' ')) + ".ck");
  const Split r = gpurnn("train --device cpu --progress none " + args + " --save " + ck, dir);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return ck;
}

// A checkpoint as an older build wrote it: format_version 2, without `keys`.
std::string older(const std::string& ck, const std::vector<std::string>& keys, const ScratchDir& dir) {
  const std::string path = dir.file("older.ck");
  rewrite_checkpoint(ck, path, [&](CheckpointTensors&, CheckpointMetadata& m) {
    for (const std::string& key : keys) m.erase(key);
    m["format_version"] = "2";
  });
  return path;
}

TEST(UseModelCli, GenerateContinuesAPromptDeterministicallyOnAnyDevice) {
  ScratchDir dir;
  std::string text;
  for (int i = 0; i < 100; ++i) text += "the cat sat on the mat.\n";
  write_file(dir.file("cat.txt"), text);
  const std::string ck = train_tiny("charlm --text " + dir.file("cat.txt") +
                                        " --hidden 16 --embedding 8 --seq-len 20 --batch 4 --steps 60 --sample 0",
                                    dir);
  const std::string args = "generate --checkpoint " + ck + " --prompt 'the c' --length 40 --seed 5";
  const Split cpu = gpurnn(args + " --device cpu", dir);
  ASSERT_EQ(cpu.exit_code, 0) << cpu.err;
  EXPECT_EQ(cpu.out.size(), 5u + 40u + 1u) << cpu.out;  // the prompt, 40 bytes, a newline
  EXPECT_EQ(cpu.out.rfind("the c", 0), 0u) << cpu.out;
  for (char c : cpu.out) EXPECT_NE(std::string("the cat sat on the mat.\n").find(c), std::string::npos) << cpu.out;
  EXPECT_TRUE(contains(cpu.err, "gpurnn generate: charlm checkpoint " + ck + " (step 60), 40 bytes at temperature "
                                "0.8, seed 5, on cpu"))
      << cpu.err;
  EXPECT_EQ(gpurnn(args + " --device cpu", dir).out, cpu.out) << "the same seed, the same text";
  const Split on_virtual = gpurnn(args + " --device virtual:0", dir);
  ASSERT_EQ(on_virtual.exit_code, 0) << on_virtual.err;
  EXPECT_EQ(on_virtual.out, cpu.out);
  bool differs = false;
  for (const char* seed : {"6", "7", "8"}) {
    differs = differs || gpurnn("generate --checkpoint " + ck + " --prompt 'the c' --length 40 --device cpu --seed " +
                                    seed, dir).out != cpu.out;
  }
  EXPECT_TRUE(differs) << "three other seeds drew the very same 40 bytes";
  const Split unprompted = gpurnn("generate --checkpoint " + ck + " --length 7 --device cpu", dir);
  ASSERT_EQ(unprompted.exit_code, 0) << unprompted.err;
  EXPECT_EQ(unprompted.out.size(), 8u) << unprompted.out;

  const std::string series = dir.file("s.csv");
  write_file(series, "y\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n");
  const std::string ts = train_tiny("timeseries --csv " + series + " --column y --hidden 4 --seq-len 4 --steps 1", dir);
  const struct {
    std::string args, expected;
  } bad[] = {
      {"--checkpoint " + ck + " --prompt 'the dog'", "--prompt: byte 5 ('d') is not in the model's vocabulary of 12"},
      {"--checkpoint " + ck + " --prompt ''", "'--prompt' is empty"},
      {"--checkpoint " + ck + " --temperature 0", "'--temperature' must be a positive number"},
      {"--checkpoint " + ck + " --length -1", "'--length' must be in [0, "},
      {"--checkpoint " + ts, "holds a model of task 'timeseries'; gpurnn generate uses charlm checkpoints"},
      {"--checkpoint " + older(ck, {"task.vocab"}, dir),
       "(format_version 2) records no vocabulary (the byte-to-id table) (metadata 'task.vocab')"},
      {"--prompt the", "--checkpoint is required"},
  };
  for (const auto& c : bad) {
    const Split r = gpurnn("generate --device cpu " + c.args, dir);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.err;
    EXPECT_TRUE(contains(r.err, c.expected)) << c.args << "\n" << r.err;
  }
}

// A sine of mean 100 and amplitude 10: the forecast continues it in its own scale.
TEST(UseModelCli, ForecastRollsATimeseriesModelForwardInTheDataScale) {
  ScratchDir dir;
  const double pi = std::acos(-1.0);
  std::ostringstream rows;
  rows << "t,level\n";
  for (int i = 0; i < 300; ++i) rows << i << "," << 100 + 10 * std::sin(2 * pi * i / 20) << "\n";
  const std::string csv = dir.file("sine.csv");
  write_file(csv, rows.str());
  const std::string ck =
      train_tiny("timeseries --csv " + csv + " --column level --hidden 16 --seq-len 20 --batch 4 --steps 300", dir);
  const std::string args = "forecast --checkpoint " + ck + " --csv " + csv + " --steps 6";  // the recorded column
  const Split cpu = gpurnn(args + " --device cpu", dir);
  ASSERT_EQ(cpu.exit_code, 0) << cpu.err;
  std::istringstream lines(cpu.out);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "step,level");
  for (int step = 1; step <= 6; ++step) {
    ASSERT_TRUE(std::getline(lines, line)) << cpu.out;
    const std::size_t comma = line.find(',');
    EXPECT_EQ(line.substr(0, comma), std::to_string(step));
    const double truth = 100 + 10 * std::sin(2 * pi * (299 + step) / 20);
    EXPECT_NEAR(std::stod(line.substr(comma + 1)), truth, 3.0) << "step " << step << "\n" << cpu.out;
  }
  EXPECT_FALSE(std::getline(lines, line)) << cpu.out;
  EXPECT_TRUE(contains(cpu.err, "300 values of column 'level' then 6 steps ahead on cpu")) << cpu.err;
  EXPECT_EQ(gpurnn(args + " --device virtual:0", dir).out, cpu.out);

  // --output: the same CSV, replacing the file through a temporary (none left behind).
  const std::string out = dir.file("forecast.csv");
  write_file(out, "old\n");
  const Split written = gpurnn(args + " --device cpu --output " + out, dir);
  ASSERT_EQ(written.exit_code, 0) << written.err;
  EXPECT_EQ(written.out, "");
  EXPECT_EQ(read_bytes(out), cpu.out);
  EXPECT_TRUE(contains(written.err, ", written to " + out)) << written.err;
  for (const std::string& name : dir.entries()) EXPECT_FALSE(contains(name, ".tmp.")) << name;

  write_file(dir.file("t.txt"), std::string(200, 'a') + "b\n");
  const std::string lm = train_tiny("charlm --text " + dir.file("t.txt") + " --hidden 4 --seq-len 5 --steps 1", dir);
  const struct {
    std::string args, expected;
  } bad[] = {
      {"--checkpoint " + lm + " --csv " + csv, "holds a model of task 'charlm'; gpurnn forecast uses timeseries"},
      {"--checkpoint " + ck + " --csv " + csv + " --steps 0", "'--steps' must be in [1, "},
      {"--checkpoint " + ck + " --csv " + csv + " --column nope", "'nope'"},
      {"--checkpoint " + ck + " --csv " + csv + " --output " + csv, "--output " + csv + " is the same file as the "
                                                                    "input --csv"},
      {"--checkpoint " + older(ck, {"data.mean", "data.std"}, dir) + " --csv " + csv,
       "(format_version 2) records no normalisation"},
      {"--checkpoint " + ck, "--csv is required"},
  };
  for (const auto& c : bad) {
    const Split r = gpurnn("forecast --device cpu " + c.args, dir);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.err;
    EXPECT_TRUE(contains(r.err, c.expected)) << c.args << "\n" << r.err;
  }
  EXPECT_EQ(read_bytes(csv), rows.str());
}

// The largest distance between `forecast`'s values (gpurnn forecast's CSV) and truth(step).
template <class Truth>
double largest_error(const std::string& forecast, Truth truth) {
  std::istringstream lines(forecast);
  std::string line;
  std::getline(lines, line);  // the header
  double largest = 0.0;
  int step = 0;
  while (std::getline(lines, line)) {
    ++step;
    largest = std::max(largest, std::fabs(std::stod(line.substr(line.find(',') + 1)) - truth(step)));
  }
  EXPECT_GT(step, 0) << forecast;
  return largest;
}

// A sine is an AR(2) process, and so are the first differences of a sine on a linear trend: with
// the AR skip a model trained for one step already forecasts them (its residuals' scale is the
// least, so its untrained output adds next to nothing), because the recorded AR forecast is added
// back at every step of the rollout, in levels and in differences, on any device. The model alone
// after one step does not.
TEST(UseModelCli, ForecastAddsTheRecordedArBack) {
  ScratchDir dir;
  const double pi = std::acos(-1.0);
  for (const double trend : {0.0, 0.5}) {
    const std::string flags = trend > 0 ? " --difference" : "";
    SCOPED_TRACE(flags);
    const auto truth = [&](int i) { return 100 + trend * i + 10 * std::sin(2 * pi * i / 20); };
    std::ostringstream rows;
    rows.precision(17);
    rows << "level\n";
    for (int i = 0; i < 300; ++i) rows << truth(i) << "\n";
    const std::string csv = dir.file("series.csv");
    write_file(csv, rows.str());
    const std::string tiny = "timeseries --csv " + csv + " --column level --hidden 8 --seq-len 20 --steps 1" + flags;
    const std::string args = " --csv " + csv + " --steps 30";
    const std::string skip = train_tiny(tiny, dir);
    const Split cpu = gpurnn("forecast --device cpu --checkpoint " + skip + args, dir);
    ASSERT_EQ(cpu.exit_code, 0) << cpu.err;
    EXPECT_LT(largest_error(cpu.out, [&](int step) { return truth(299 + step); }), 0.05) << cpu.out;
    EXPECT_EQ(gpurnn("forecast --device virtual:0 --checkpoint " + skip + args, dir).out, cpu.out);

    const std::string alone = train_tiny(tiny + " --no-ar-skip", dir);
    const Split plain = gpurnn("forecast --device cpu --checkpoint " + alone + args, dir);
    ASSERT_EQ(plain.exit_code, 0) << plain.err;
    EXPECT_GT(largest_error(plain.out, [&](int step) { return truth(299 + step); }), 1.0) << plain.out;
  }
  const std::string csv = dir.file("series.csv");
  // A damaged AR setting is an error naming the key, not a silently different forecast.
  const std::string skip = train_tiny("timeseries --csv " + csv + " --column level --hidden 8 --seq-len 20 --steps 1",
                                      dir);
  const std::string bad = dir.file("bad.ck");
  rewrite_checkpoint(skip, bad, [&](CheckpointTensors&, CheckpointMetadata& m) { m["task.ar_skip"] = "0.1 x"; });
  const Split refused = gpurnn("forecast --device cpu --checkpoint " + bad + " --csv " + csv, dir);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_TRUE(contains(refused.err, "metadata 'task.ar_skip' is '0.1 x', expected the AR coefficients")) << refused.err;
  // So is a damaged or missing scale of the model's output.
  for (const auto& [scale, expected] : std::vector<std::pair<std::string, std::string>>{
           {"0", "metadata 'task.ar_skip_scale' is 0, expected a scale above 0"},
           {"-1e-3", "metadata 'task.ar_skip_scale' is -0.001, expected a scale above 0"},
           {"0x1", "metadata 'task.ar_skip_scale' is '0x1', expected a number"},
           {"", "records no AR skip's residual scale (metadata 'task.ar_skip_scale')"}}) {
    rewrite_checkpoint(skip, bad, [&](CheckpointTensors&, CheckpointMetadata& m) {
      if (scale.empty()) {
        m.erase("task.ar_skip_scale");
      } else {
        m["task.ar_skip_scale"] = scale;
      }
    });
    const Split r = gpurnn("forecast --device cpu --checkpoint " + bad + " --csv " + csv, dir);
    EXPECT_NE(r.exit_code, 0) << scale;
    EXPECT_TRUE(contains(r.err, expected)) << scale << "\n" << r.err;
  }
}

}  // namespace
}  // namespace gpurnn::testing
