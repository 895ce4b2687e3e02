// `gpurnn bench` end to end on the tiny grid: a progress line per case on stderr, a table row
// per case with positive timings, JSON rows in the shape bench/report reads; bad arguments end
// with a message naming the option and a non-zero exit.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <regex>
#include <string>
#include <vector>

#include "test_support.h"

#ifndef GPURNN_CLI_PATH
#error "GPURNN_CLI_PATH must name the gpurnn executable"
#endif

namespace gpurnn::testing {
namespace {

CommandResult run_bench(const std::string& args) {
  return run_command(std::string(GPURNN_CLI_PATH) + " bench " + args);
}

TEST(CliBench, TinyGridPrintsProgressTableAndJson) {
  const ScratchDir dir;
  const std::string json_path = dir.file("bench.json");
  const CommandResult r = run_bench("--backend cpu --grid tiny --cell gru --repeat 2 --json " + json_path);
  ASSERT_EQ(r.exit_code, 0) << r.output;

  const char* modes[] = {"infer", "train_fwd", "fwd_bwd"};
  for (int k = 0; k < 3; ++k) {
    const std::string name = std::string("gru/") + modes[k] + "/cpu/H:16/B:2/T:3/I:16";
    EXPECT_NE(r.output.find("gpurnn bench: case " + std::to_string(k + 1) + "/3 " + name), std::string::npos)
        << r.output;
    // The table row: name, µs/step, GFLOP/s (positive, two and one decimals), iterations.
    const std::regex row(name + R"( +([0-9]+\.[0-9]{2}) +([0-9]+\.[0-9]) +([0-9]+)\n)");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.output, m, row)) << name << " has no table row in\n" << r.output;
    EXPECT_GT(std::stod(m[1]), 0.0);
    EXPECT_GT(std::stol(m[3]), 0);
  }
  EXPECT_EQ(r.output.find("lstm/"), std::string::npos) << "--cell gru ran other cells:\n" << r.output;

  const nlohmann::json doc = nlohmann::json::parse(read_bytes(json_path));
  EXPECT_EQ(doc["context"]["gpurnn_grid"], "tiny");
  ASSERT_EQ(doc["benchmarks"].size(), 3U);
  for (const auto& b : doc["benchmarks"]) {
    EXPECT_FALSE(b.contains("error_occurred")) << b.dump();
    EXPECT_GT(b["us_per_step"].get<double>(), 0.0);
    EXPECT_GT(b["GFLOPs"].get<double>(), 0.0);
    // µs per step is the median iteration time over T = 3 steps.
    EXPECT_NEAR(b["us_per_step"].get<double>() * 3.0, b["real_time"].get<double>(),
                1e-9 * b["real_time"].get<double>());
  }
  EXPECT_EQ(dir.entries().size(), 1U) << "the temporary JSON file was left behind";
}

// --prepared times the calls on prepared weights, under the backend name cpu_prepared.
TEST(CliBench, PreparedRowsAreNamedForThePreparedWeights) {
  const CommandResult r = run_bench("--backend cpu --grid tiny --cell lstm --repeat 1 --prepared");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::regex row(R"(lstm/fwd_bwd/cpu_prepared/H:16/B:2/T:3/I:16 +([0-9]+\.[0-9]{2}) )");
  EXPECT_TRUE(std::regex_search(r.output, row)) << r.output;
  EXPECT_EQ(r.output.find("/cpu/"), std::string::npos) << "rows on the weights ran too:\n" << r.output;
}

TEST(CliBench, BadArgumentsNameTheOption) {
  struct Bad {
    const char* args;
    const char* message;
  };
  const Bad cases[] = {
      {"--grid huge", "--grid: unknown grid 'huge' (expected quick, deepbench, lease or tiny)"},
      {"--grid tiny --repeat 0", "--repeat"},
      {"--grid tiny --cell lsmt", "--cell lsmt: expected all, rnn_tanh"},
      {"--grid tiny --threads -1", "--threads"},
      {"--grid tiny --backend nope", "nope"},
  };
  for (const Bad& b : cases) {
    const CommandResult r = run_bench(b.args);
    EXPECT_NE(r.exit_code, 0) << b.args;
    EXPECT_NE(r.output.find(b.message), std::string::npos) << b.args << " printed:\n" << r.output;
    EXPECT_EQ(r.output.find("case 1/"), std::string::npos) << b.args << " started timing";
  }
}

// gpurnn_bench's console shows us_per_step as the number of µs it is, without the "s" Google
// Benchmark gives an inverted rate; the JSON keeps the key and the same value (bench/report).
TEST(GpurnnBench, ConsoleShowsUsPerStepWithoutASecondsUnit) {
#if !defined(GPURNN_BENCH_PATH)
  GTEST_SKIP() << "gpurnn_bench is not built (GPURNN_BUILD_BENCH=OFF)";
#else
  const ScratchDir dir;
  const std::string json_path = dir.file("bench.json");
  const std::string name = "gru/infer/cpu/H:16/B:2/T:3/I:16";
  const CommandResult r = run_command(std::string(GPURNN_BENCH_PATH) + " --grid=tiny --benchmark_filter='^" + name +
                                      "/real_time$' --benchmark_min_time=0.01 --benchmark_out_format=json --benchmark_out=" +
                                      json_path);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::smatch m;
  // A number with Google Benchmark's SI prefix at most (12.3, 1.23k, 850m), then nothing.
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex(R"(us_per_step=([0-9.]+)([kMmu]?)(\S*))"))) << r.output;
  EXPECT_EQ(m[3].str(), "") << "us_per_step has a unit suffix: " << m[0] << "\n" << r.output;
  const std::string prefix = m[2];
  const double shown = std::stod(m[1]) * (prefix == "k"   ? 1e3
                                          : prefix == "M" ? 1e6
                                          : prefix == "m" ? 1e-3
                                          : prefix == "u" ? 1e-6
                                                          : 1.0);

  const nlohmann::json doc = nlohmann::json::parse(read_bytes(json_path));
  ASSERT_EQ(doc["benchmarks"].size(), 1U) << doc.dump();
  const nlohmann::json& b = doc["benchmarks"][0];
  const double us_per_step = b["us_per_step"].get<double>();
  EXPECT_NEAR(shown, us_per_step, 0.01 * us_per_step) << r.output;
  // In µs: the real time per iteration over T = 3 steps.
  const std::string unit = b["time_unit"];
  const double us_per_unit = unit == "ns" ? 1e-3 : unit == "us" ? 1.0 : unit == "ms" ? 1e3 : 1e6;
  EXPECT_NEAR(us_per_step * 3.0, b["real_time"].get<double>() * us_per_unit, 1e-6 * us_per_step * 3.0) << b.dump();
#endif
}

// --dtypes=f32,bf16 adds the bf16 rows next to the f32 ones, named with the dtype after the
// backend (so bench/report pairs cpu_prepared_bf16 with onednn_bf16 and with cpu_prepared); the
// cpu backend runs every one, and oneDNN's bf16 rival either passes its check against the cpu
// backend's bf16 outputs or skips with oneDNN's refusal (a CPU without oneDNN's bf16 RNN).
TEST(GpurnnBench, Bf16RowsAreNamedWithTheirDtype) {
#if !defined(GPURNN_BENCH_PATH)
  GTEST_SKIP() << "gpurnn_bench is not built (GPURNN_BUILD_BENCH=OFF)";
#else
  const ScratchDir dir;
  const std::string json_path = dir.file("bench.json");
  const CommandResult r = run_command(std::string(GPURNN_BENCH_PATH) +
                                      " --grid=tiny --dtypes=f32,bf16 --benchmark_filter='^lstm/fwd_bwd/'"
                                      " --benchmark_min_time=0.01 --benchmark_out_format=json --benchmark_out=" +
                                      json_path);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json doc = nlohmann::json::parse(read_bytes(json_path));
  EXPECT_EQ(doc["context"]["gpurnn_dtypes"], "f32,bf16");
  const bool onednn = doc["context"].contains("onednn_version");
  std::vector<std::string> want = {"cpu", "cpu_prepared", "cpu_bf16", "cpu_prepared_bf16"};
  if (onednn) want.insert(want.end(), {"onednn", "onednn_bf16"});
  for (const std::string& backend : want) {
    const std::string name = "lstm/fwd_bwd/" + backend + "/H:16/B:2/T:3/I:16";
    const nlohmann::json* row = nullptr;
    for (const auto& b : doc["benchmarks"]) {
      if (b["name"].get<std::string>().rfind(name + "/", 0) == 0) row = &b;
    }
    ASSERT_NE(row, nullptr) << "no row " << name << " in\n" << doc.dump(1);
    if (backend == "onednn_bf16" && row->contains("error_occurred")) {
      EXPECT_NE((*row)["error_message"].get<std::string>().find("oneDNN refuses bf16 LSTM"), std::string::npos)
          << row->dump();
      continue;
    }
    EXPECT_FALSE(row->contains("error_occurred")) << row->dump();
    EXPECT_GT((*row)["us_per_step"].get<double>(), 0.0) << row->dump();
  }
  EXPECT_EQ(doc["benchmarks"].size(), want.size()) << doc.dump(1);

  const CommandResult bad = run_command(std::string(GPURNN_BENCH_PATH) + " --grid=tiny --dtypes=f32,f64");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("--dtypes: the rows run in f32, bf16 or f16, not f64"), std::string::npos) << bad.output;
#endif
}

}  // namespace
}  // namespace gpurnn::testing
