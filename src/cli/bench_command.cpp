// `gpurnn bench`: the benchmark grid (src/perf/bench_cases.h) on gpurnn's own backends, without
// Google Benchmark: per case one checked warm-up run, then --repeat timed repetitions of enough
// iterations to last kMinRepetitionSeconds; the median repetition is reported as µs per step
// and GFLOP/s. A progress line per case goes to stderr, the table to stdout, and --json writes
// the rows in Google Benchmark's JSON shape, so bench/report turns them into markdown too.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/output_paths.h"
#include "core/thread_count.h"
#include "gpurnn/device.h"
#include "gpurnn/error.h"
#include "gpurnn/version.h"
#include "io/atomic_file.h"
#include "perf/backend_case.h"
#include "perf/bench_cases.h"

namespace gpurnn::cli {
namespace {

constexpr double kMinRepetitionSeconds = 0.05;  // short cases repeat inside one repetition

struct Row {
  std::string name;
  std::string error;  // "" when timed
  double seconds = 0.0;  // median time of one iteration
  double us_per_step = 0.0, gflops = 0.0;
  long iterations = 0;  // per repetition
};

// "all": cpu, and cuda when this build and machine have a device; else the one named.
std::vector<std::string> backends_to_run(const std::string& backend) {
  if (backend != "all") {
    (void)make_backend(backend);  // Error naming the backends this build offers
    return {backend};
  }
  std::vector<std::string> out{"cpu"};
  if (cuda_device_count() > 0) out.push_back("cuda");
  return out;
}

std::vector<perf::BenchCase> select_cases(const BenchOptions& o) {
  std::vector<perf::BenchCase> grid;
  try {
    grid = perf::make_grid(o.grid, "cpu");
  } catch (const std::invalid_argument& e) {
    throw Error(ErrorCode::invalid_argument, std::string("--grid: ") + e.what());
  }
  bool all_cells = o.cell == "all";
  CellKind cell = CellKind::lstm;
  if (!all_cells) {
    try {
      cell = parse_cell_kind(o.cell);
    } catch (const Error&) {
      throw Error(ErrorCode::invalid_argument,
                  "--cell " + o.cell + ": expected all, " + cell_kind_names(" or "));
    }
  }
  std::vector<perf::BenchCase> cases;
  for (const std::string& backend : backends_to_run(o.backend)) {
    for (perf::BenchCase c : grid) {
      if (!all_cells && c.cell != cell) continue;
      c.backend = backend;
      c.prepared = o.prepared;
      cases.push_back(c);
    }
  }
  if (cases.empty()) {
    throw Error(ErrorCode::invalid_argument,
                "--cell " + o.cell + ": grid " + o.grid + " has no case of that cell");
  }
  return cases;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

Row time_case(const perf::BenchCase& c, const BenchOptions& o) {
  Row row;
  row.name = c.name();
  const auto f = perf::make_backend_case(c, o.threads);
  if (!f->unsupported.empty()) {
    row.error = "unsupported: " + f->unsupported;
    return row;
  }
  // Warm-up: caches, BLAS threads, device kernels; its outputs are checked once.
  auto start = std::chrono::steady_clock::now();
  f->run();
  f->synchronize();
  const double warmup = seconds_since(start);
  if (std::string e = f->check_finite(); !e.empty()) {
    row.error = e;
    return row;
  }
  row.iterations = warmup >= kMinRepetitionSeconds ? 1 : static_cast<long>(kMinRepetitionSeconds / warmup) + 1;
  std::vector<double> per_iteration;
  for (int r = 0; r < o.repeat; ++r) {
    start = std::chrono::steady_clock::now();
    for (long i = 0; i < row.iterations; ++i) f->run();
    f->synchronize();
    per_iteration.push_back(seconds_since(start) / static_cast<double>(row.iterations));
  }
  row.seconds = perf::median(per_iteration);
  row.us_per_step = perf::us_per_step(c, row.seconds);
  row.gflops = perf::gflops_per_second(c, row.seconds);
  return row;
}

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

void print_table(const std::vector<Row>& rows) {
  std::size_t width = 4;
  for (const Row& r : rows) width = std::max(width, r.name.size());
  std::printf("%-*s  %12s  %10s  %s\n", static_cast<int>(width), "case", "us/step", "GFLOP/s",
              "iterations");
  for (const Row& r : rows) {
    if (!r.error.empty()) {
      std::printf("%-*s  error: %s\n", static_cast<int>(width), r.name.c_str(), r.error.c_str());
    } else {
      std::printf("%-*s  %12s  %10s  %ld\n", static_cast<int>(width), r.name.c_str(),
                  fixed(r.us_per_step, 2).c_str(), fixed(r.gflops, 1).c_str(), r.iterations);
    }
  }
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// Google Benchmark's JSON shape (context + benchmarks), the fields bench/report reads.
void write_json(const std::string& path, const std::vector<Row>& rows, const BenchOptions& o) {
  nlohmann::json doc;
  doc["context"] = {{"date", utc_now()},
                    {"gpurnn_version", version()},
                    {"gpurnn_grid", o.grid},
                    {"gpurnn_threads", std::to_string(o.threads)},
                    {"gpurnn_repetitions", o.repeat},
                    {"timer", "gpurnn bench (median of repetitions)"}};
  nlohmann::json list = nlohmann::json::array();
  for (const Row& r : rows) {
    nlohmann::json b = {{"name", r.name}, {"run_name", r.name}, {"run_type", "iteration"}};
    if (!r.error.empty()) {
      b["error_occurred"] = true;
      b["error_message"] = r.error;
    } else {
      b["iterations"] = r.iterations;
      b["repetitions"] = o.repeat;
      b["real_time"] = r.seconds * 1e6;
      b["time_unit"] = "us";
      b["us_per_step"] = r.us_per_step;
      b["GFLOPs"] = r.gflops;
    }
    list.push_back(std::move(b));
  }
  doc["benchmarks"] = std::move(list);
  const std::string text = doc.dump(2) + "\n";
  io::detail::write_file_atomically(path, {{text.data(), text.size()}});
}

}  // namespace

int run_bench(const BenchOptions& o) {
  check_argument(o.repeat >= 1, "gpurnn bench", "--repeat", "must be at least 1, got " + std::to_string(o.repeat));
  detail::check_thread_count(o.threads, "gpurnn bench", "--threads");
  if (!o.json.empty()) check_output_paths({{"--json", o.json}}, {});  // before the timing, not after
  const std::vector<perf::BenchCase> cases = select_cases(o);
  std::vector<Row> rows;
  int failed = 0;
  for (std::size_t k = 0; k < cases.size(); ++k) {
    std::cerr << "gpurnn bench: case " << k + 1 << "/" << cases.size() << " " << cases[k].name()
              << std::endl;
    Row row;
    try {
      row = time_case(cases[k], o);
    } catch (const std::exception& e) {  // one failing case does not hide the others
      row.name = cases[k].name();
      row.error = e.what();
    }
    failed += row.error.empty() ? 0 : 1;
    rows.push_back(std::move(row));
  }
  print_table(rows);
  if (!o.json.empty()) {
    write_json(o.json, rows, o);
    std::cerr << "gpurnn bench: wrote " << rows.size() << " rows to " << o.json << "\n";
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace gpurnn::cli
