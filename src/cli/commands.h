#pragma once
// The subcommands of the `gpurnn` command; each returns the process exit status.

#include <string>

namespace gpurnn::cli {

int run_info();

struct CheckOptions {
  std::string backend = "all";  // a backend name, or "all"
  unsigned long long seed = 1;
  double tolerance = 1e-4;      // largest relative error accepted against the f64 reference
};
int run_check(const CheckOptions& options);

struct RunOptions {
  std::string weights, input, output;         // required
  std::string lengths, h0, c0, hn, cn;        // optional files ("" = none)
  bool batch_first = false;
  std::string device = "auto";
  std::string prefix;
  std::string cell;                           // "" = from the file
  std::string dtype = "f32";
};
int run_run(const RunOptions& options);

struct BenchOptions {
  std::string backend = "all";  // a backend name, or "all": cpu, and cuda when there is a device
  std::string cell = "all";     // a cell kind, or "all"
  std::string grid = "quick";   // quick, deepbench or tiny (src/perf/bench_cases.h)
  int repeat = 5;               // timed repetitions per case; the median is reported
  int threads = 0;              // BackendOptions::num_threads
  std::string json;             // write the rows here too ("" = no file)
};
int run_bench(const BenchOptions& options);

}  // namespace gpurnn::cli
