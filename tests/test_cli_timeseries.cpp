// Issue 32 item 5, the timeseries recipe as a user types it: empty CSV cells refused with a hint,
// or filled with --fill; --difference on a trending series (and a forecast from its checkpoint
// that continues the trend); the AR baseline beside persistence; the validation split, early
// stopping and its line; the held-out part evaluated warm-started. On the committed yearly
// sunspots (tests/data/sunspots_yearly.csv, public domain, from statsmodels).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "test_support.h"

#ifndef GPURNN_CLI_PATH
#error "GPURNN_CLI_PATH must name the gpurnn executable"
#endif
#ifndef GPURNN_TEST_DATA_DIR
#error "GPURNN_TEST_DATA_DIR must name tests/data"
#endif

namespace gpurnn::testing {
namespace {

const std::string kCli = GPURNN_CLI_PATH;
const std::string kSunspots = std::string(GPURNN_TEST_DATA_DIR) + "/sunspots_yearly.csv";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

void write_file(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

CommandResult train(const std::string& args) {
  return run_command(kCli + " train timeseries --device cpu --progress none --threads 1 " + args + " 2>&1");
}

// The key=value pairs of the last `result:` line.
std::map<std::string, std::string> result_of(const std::string& output) {
  const std::size_t at = output.rfind("result: ");
  std::map<std::string, std::string> values;
  if (at == std::string::npos) return values;
  std::istringstream line(output.substr(at + 8, output.find('\n', at) - at - 8));
  std::string pair;
  while (line >> pair) {
    const std::size_t eq = pair.find('=');
    if (eq != std::string::npos) values[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  return values;
}

double number(const std::map<std::string, std::string>& result, const std::string& key) {
  const auto it = result.find(key);
  EXPECT_NE(it, result.end()) << key;
  return it == result.end() ? 0.0 : std::stod(it->second);
}

TEST(TimeseriesCli, EmptyCellsAreRefusedWithAHintOrFilled) {
  ScratchDir dir;
  std::string rows = "t,y\n";
  for (int i = 0; i < 200; ++i) rows += std::to_string(i) + "," + (i % 17 == 5 ? "" : std::to_string(std::sin(0.2 * i))) + "\n";
  const std::string csv = dir.file("gaps.csv");
  write_file(csv, rows);
  const std::string args = "--hidden 4 --seq-len 10 --steps 2 --csv " + csv + " --column y";
  const CommandResult refused = train(args);
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  for (const char* part : {"gaps.csv", "line 7", "'y'", "empty", "--fill previous, --fill interpolate or --fill drop"}) {
    EXPECT_TRUE(contains(refused.output, part)) << part << "\n" << refused.output;
  }
  const CommandResult interpolated = train(args + " --fill interpolate");
  ASSERT_EQ(interpolated.exit_code, 0) << interpolated.output;
  EXPECT_TRUE(contains(interpolated.output, "200 values; empty cells: 12 filled (interpolate)")) << interpolated.output;
  const CommandResult dropped = train(args + " --fill drop");
  ASSERT_EQ(dropped.exit_code, 0) << dropped.output;
  EXPECT_TRUE(contains(dropped.output, "188 values; empty cells: 12 dropped")) << dropped.output;
  const CommandResult bad = train(args + " --fill zero");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_TRUE(contains(bad.output, "'zero'; expected previous, interpolate or drop")) << bad.output;
  const CommandResult other_task =
      run_command(kCli + " train adding --device cpu --progress none --steps 1 --fill drop 2>&1");
  EXPECT_EQ(other_task.exit_code, 2) << other_task.output;
  EXPECT_TRUE(contains(other_task.output, "--fill does not apply to task adding")) << other_task.output;
}

// A line plus a wave: the held-out part lies above every training value. Modelled in levels the
// header says so; with --difference the model reads the changes and beats persistence, and its
// checkpoint's forecast continues the trend.
TEST(TimeseriesCli, DifferenceOnATrendingSeries) {
  ScratchDir dir;
  const double pi = std::acos(-1.0);
  std::string rows = "t,level\n";
  const auto level = [&](int i) { return 50.0 + 0.5 * i + 4.0 * std::sin(2 * pi * i / 12); };
  for (int i = 0; i < 400; ++i) rows += std::to_string(i) + "," + std::to_string(level(i)) + "\n";
  const std::string csv = dir.file("trend.csv");
  write_file(csv, rows);
  const std::string args = "--hidden 16 --seq-len 24 --batch 4 --steps 150 --csv " + csv + " --column level";
  const CommandResult levels = train(args);
  ASSERT_EQ(levels.exit_code, 0) << levels.output;
  EXPECT_TRUE(contains(levels.output, "leave the training range")) << levels.output;
  EXPECT_TRUE(contains(levels.output, "--difference models the changes")) << levels.output;

  const std::string ck = dir.file("diff.ck");
  const CommandResult diff = train(args + " --difference --save " + ck);
  ASSERT_EQ(diff.exit_code, 0) << diff.output;
  EXPECT_TRUE(contains(diff.output, "first differences modelled (predictions integrated back)")) << diff.output;
  const auto result = result_of(diff.output);
  EXPECT_LT(number(result, "nrmse"), 0.5 * number(result, "persistence_nrmse")) << diff.output;
  EXPECT_LT(number(result, "nrmse"), number(result_of(levels.output), "nrmse")) << levels.output << diff.output;

  const CommandResult forecast =
      run_command(kCli + " forecast --device cpu --checkpoint " + ck + " --csv " + csv + " --steps 3 2>/dev/null");
  ASSERT_EQ(forecast.exit_code, 0) << forecast.output;
  std::istringstream lines(forecast.output);
  std::string line;
  std::getline(lines, line);
  for (int step = 1; step <= 3; ++step) {
    ASSERT_TRUE(std::getline(lines, line)) << forecast.output;
    const double value = std::stod(line.substr(line.find(',') + 1));
    EXPECT_NEAR(value, level(399 + step), 2.0) << "step " << step << "\n" << forecast.output;  // beyond 249.5
  }
  // A resume reads the data as the checkpoint did; --difference cannot be dropped or added.
  const CommandResult resumed = run_command(kCli + " train --device cpu --progress none --resume " + ck +
                                            " --steps 151 2>&1");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_TRUE(contains(resumed.output, "first differences modelled")) << resumed.output;
}

// On the yearly sunspots: the AR baseline (order chosen on the validation split) is printed
// beside persistence and in the result line; early stopping scores the validation split every N
// steps and restores the best step's weights; the held-out part is warm-started on the history.
TEST(TimeseriesCli, SunspotsReportTheArBaselineAndEarlyStopping) {
  const std::string args = "--csv " + kSunspots + " --column sunactivity --hidden 16 --seq-len 20 --steps 40";
  const CommandResult run = train(args + " --validate-every 10");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  for (const char* part :
       {"309 values, normalised on the first 80%; training split 198, validation 49 (the end of the training range), "
        "held out 62 (evaluated warm-started on the 246 values before each of its 1 lane(s))",
        "early stopping: the validation split scored every 10 steps and after the last; the best step's weights are "
        "kept",
        "validation: best at step ", " (its weights restored)", "ar_nrmse ", "ar_order "}) {
    EXPECT_TRUE(contains(run.output, part)) << part << "\n" << run.output;
  }
  const auto result = result_of(run.output);
  for (const char* key : {"nrmse", "persistence_nrmse", "ar_nrmse", "ar_order", "horizon", "val_nrmse",
                          "val_ar_nrmse", "best_step", "steps", "seconds"}) {
    EXPECT_EQ(result.count(key), 1u) << key << "\n" << run.output;
  }
  // The AR baseline of the sunspots: well below persistence, of an order around the 11-year cycle.
  EXPECT_LT(number(result, "ar_nrmse"), 0.8 * number(result, "persistence_nrmse")) << run.output;
  EXPECT_GE(number(result, "ar_order"), 2) << run.output;
  EXPECT_EQ(static_cast<long>(number(result, "best_step")) % 10, 0) << run.output;

  const CommandResult off = train(args + " --validate-every 0");
  ASSERT_EQ(off.exit_code, 0) << off.output;
  EXPECT_FALSE(contains(off.output, "early stopping")) << off.output;
  EXPECT_EQ(result_of(off.output).count("best_step"), 0u) << off.output;
  EXPECT_EQ(result_of(off.output).at("ar_nrmse"), result.at("ar_nrmse"));
}

// The AR skip is the default and says so; --no-ar-skip trains the model alone (the same AR
// baseline beside it); a resume keeps what the checkpoint was trained with and refuses the other.
TEST(TimeseriesCli, TheArSkipIsTheDefaultAndAResumeKeepsIt) {
  ScratchDir dir;
  const std::string args = "--csv " + kSunspots + " --column sunactivity --hidden 8 --seq-len 20 --steps 20";
  const CommandResult skip = train(args + " --save " + dir.file("skip.ck"));
  ASSERT_EQ(skip.exit_code, 0) << skip.output;
  EXPECT_TRUE(contains(skip.output, "; the model predicts what AR(" + result_of(skip.output).at("ar_order") +
                                        ") misses (the AR skip; its residuals' rms on the training split "))
      << skip.output;
  const CommandResult alone = train(args + " --no-ar-skip --save " + dir.file("alone.ck"));
  ASSERT_EQ(alone.exit_code, 0) << alone.output;
  EXPECT_FALSE(contains(alone.output, "AR skip")) << alone.output;
  EXPECT_EQ(result_of(alone.output).at("ar_nrmse"), result_of(skip.output).at("ar_nrmse"));
  EXPECT_NE(result_of(alone.output).at("nrmse"), result_of(skip.output).at("nrmse"));

  const CommandResult kept = train("--steps 30 --resume " + dir.file("skip.ck"));
  ASSERT_EQ(kept.exit_code, 0) << kept.output;
  EXPECT_TRUE(contains(kept.output, "misses (the AR skip")) << kept.output;
  const CommandResult refused = train("--steps 30 --no-ar-skip --resume " + dir.file("skip.ck"));
  EXPECT_NE(refused.exit_code, 0) << refused.output;
  EXPECT_TRUE(contains(refused.output, "--ar-skip (no AR skip) does not match the checkpoint")) << refused.output;
  const CommandResult still_alone = train("--steps 30 --resume " + dir.file("alone.ck"));
  ASSERT_EQ(still_alone.exit_code, 0) << still_alone.output;
  EXPECT_FALSE(contains(still_alone.output, "AR skip")) << still_alone.output;
  EXPECT_NE(train("--steps 30 --ar-skip --resume " + dir.file("alone.ck")).exit_code, 0);
}

}  // namespace
}  // namespace gpurnn::testing
