// gpurnn_bench: parses its own flags (--grid=, --threads=), passes the rest to Google Benchmark,
// records the CPU model and settings in the JSON context, registers the grid and runs it.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_support.h"
#include "gpurnn/dtype.h"
#include "gpurnn/version.h"

#if defined(GPURNN_BENCH_HAVE_ONEDNN)
#include <dnnl.hpp>
#endif

namespace {

constexpr const char* kUsage =
    "gpurnn_bench [--grid=quick|deepbench|lease|tiny] [--threads=N] [--dtypes=LIST]\n"
    "             [Google Benchmark flags]\n"
    "  --grid=quick      LSTM H 256/512/1024 x B 1/32/128, GRU H 512 x B 1/32, I = H, T = 25\n"
    "                    (default; a few minutes on 2 cores)\n"
    "  --grid=deepbench  LSTM and GRU, H 512/1024/2048 x B 1/16/32/64/128 x T 25/50/100, I = H\n"
    "                    (hours on a CPU)\n"
    "  --grid=lease      LSTM and GRU, H 256/512/1024 x B 1/8/32/128, T = 100, infer and fwd_bwd,\n"
    "                    and LSTM H 768 x B 16 x T 1024 (the GPU lease run: bench/gpu_lease.sh)\n"
    "  --grid=tiny       LSTM, GRU, tanh RNN H 16 x B 2 x T 3 (a smoke test, not a measurement)\n"
    "  --threads=N       BackendOptions::num_threads, and oneDNN's OpenMP threads\n"
    "                    (0 = each library's default)\n"
    "  --dtypes=LIST     the dtypes the rows run in, comma-separated from f32, bf16, f16 (default\n"
    "                    f32): --dtypes=f32,bf16 adds cpu_bf16, cpu_prepared_bf16 and onednn_bf16\n"
    "                    (oneDNN's bf16 RNN; f16 has no oneDNN rows) next to the f32 ones\n"
    "                    (bench/cpu_bf16.sh) and, on a GPU, the unidirectional LSTM shapes on cuda\n"
    "                    standard/persistent/auto and every cudnn/* algorithm in that dtype\n"
    "Each grid runs modes infer, train_fwd and fwd_bwd on backend cpu, given the weights (cpu:\n"
    "W_hh packed in every call) and given Backend::prepare's prepared weights (cpu_prepared:\n"
    "packed once, before timing), then on onednn when gpurnn_bench was built with oneDNN\n"
    "(libdnnl-dev; weights reordered once, before timing), and rows floor/read/MiB:4 and :16\n"
    "(one thread reading an LSTM W_hh's bytes at H 512 and 1024: the least a batch-1 step on\n"
    "one thread can take); rows are named\n"
    "<cell>/<mode>/<backend>[/<algo>]/H:<h>/B:<b>/T:<t>/I:<i> (GPU backends, when a device is\n"
    "present: cuda/<algo> and cudnn/<algo>). Write JSON with --benchmark_out=FILE.json\n"
    "(or --benchmark_format=json) and turn it into a table with bench/report.\n\n";

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// --dtypes: a comma-separated list of f32, bf16, f16 (gpurnn::parse_dtype's spellings), each once.
std::vector<gpurnn::DType> parse_dtypes(const std::string& list) {
  std::vector<gpurnn::DType> dtypes;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    const std::string item = list.substr(start, comma - start);
    gpurnn::DType dtype{};
    try {
      dtype = gpurnn::parse_dtype(item);
    } catch (const std::exception&) {
      throw std::invalid_argument("--dtypes: '" + item + "' is not a dtype (expected f32, bf16 or f16)");
    }
    if (dtype != gpurnn::DType::f32 && !gpurnn::is_half(dtype)) {
      throw std::invalid_argument("--dtypes: the rows run in f32, bf16 or f16, not " + item);
    }
    if (std::find(dtypes.begin(), dtypes.end(), dtype) != dtypes.end()) {
      throw std::invalid_argument("--dtypes: " + item + " given twice");
    }
    dtypes.push_back(dtype);
    start = comma + 1;
  }
  return dtypes;
}

// The value of the first line of /proc/cpuinfo that starts with `key`, or "" when none.
std::string cpuinfo_field(const char* key) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (starts_with(line, key) && colon != std::string::npos) {
      const auto start = line.find_first_not_of(" \t", colon + 1);
      return start == std::string::npos ? std::string() : line.substr(start);
    }
  }
  return {};
}

// The widest x86 vector extension the CPU reports (the design's CPU targets assume AVX-512).
std::string cpu_simd() {
  const std::string flags = " " + cpuinfo_field("flags") + " ";
  for (const char* isa : {"avx512f", "avx2", "avx", "sse4_2"}) {
    if (flags.find(std::string(" ") + isa + " ") != std::string::npos) return isa;
  }
  return "unknown";
}

// The display reporter --benchmark_format asks for, showing us_per_step as a plain number.
// Google Benchmark's console gives an inverted rate the unit "s" ("us_per_step=69.47s"), but
// set_counters' us_per_step is in µs; dropping its flags once the value is computed changes
// only how it is shown (the JSON writes the value alone either way, under the same key).
class PlainUsPerStepReporter : public benchmark::BenchmarkReporter {
 public:
  PlainUsPerStepReporter() : shown_(benchmark::CreateDefaultDisplayReporter()) {}
  bool ReportContext(const Context& context) override { return shown_->ReportContext(context); }
  void ReportRuns(const std::vector<Run>& runs) override {
    std::vector<Run> plain = runs;
    for (Run& run : plain) {
      const auto counter = run.counters.find("us_per_step");
      if (counter != run.counters.end()) counter->second.flags = benchmark::Counter::kDefaults;
    }
    shown_->ReportRuns(plain);
  }
  void Finalize() override { shown_->Finalize(); }

 private:
  std::unique_ptr<benchmark::BenchmarkReporter> shown_;
};

}  // namespace

int main(int argc, char** argv) {
  gpurnn_bench::BenchOptions options;
  std::string dtypes_arg = "f32";
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (starts_with(arg, "--grid=")) {
      options.grid = arg.substr(7);
    } else if (starts_with(arg, "--threads=")) {
      const std::string value = arg.substr(10);
      char* end = nullptr;
      const long n = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || n < 0 || n > 4096) {
        std::fprintf(stderr, "gpurnn_bench: --threads expects a non-negative integer, got '%s'\n",
                     value.c_str());
        return 2;
      }
      options.threads = static_cast<int>(n);
    } else if (starts_with(arg, "--dtypes=")) {
      dtypes_arg = arg.substr(9);
    } else {
      if (arg == "--help" || arg == "-h") std::fputs(kUsage, stdout);
      rest.push_back(argv[i]);
    }
  }

  std::vector<gpurnn_bench::BenchCase> cases;
  std::vector<gpurnn::DType> dtypes;
  try {
    dtypes = parse_dtypes(dtypes_arg);
    cases = gpurnn_bench::make_grid(options.grid, "cpu");
    // Each case in each dtype, on the weights and then on prepared weights (cpu_prepared).
    std::vector<gpurnn_bench::BenchCase> all;
    for (const gpurnn_bench::BenchCase& c : cases) {
      for (gpurnn::DType dtype : dtypes) {
        all.push_back(c);
        all.back().dtype = dtype;
        all.push_back(all.back());
        all.back().prepared = true;
      }
    }
    cases = all;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gpurnn_bench: %s\n", e.what());
    return 2;
  }

  int rest_argc = static_cast<int>(rest.size());
  rest.push_back(nullptr);
  benchmark::Initialize(&rest_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 2;

  const std::string model = cpuinfo_field("model name");
  benchmark::AddCustomContext("cpu_model", model.empty() ? "unknown" : model);
  benchmark::AddCustomContext("cpu_simd", cpu_simd());
  benchmark::AddCustomContext("gpurnn_version", gpurnn::version());
  benchmark::AddCustomContext("gpurnn_grid", options.grid);
  benchmark::AddCustomContext("gpurnn_threads", std::to_string(options.threads));
  benchmark::AddCustomContext("gpurnn_dtypes", dtypes_arg);

  gpurnn_bench::register_cpu_benchmarks(cases, options);
  gpurnn_bench::register_floor_benchmarks();
  gpurnn_bench::register_caller_benchmarks(options);
#if defined(GPURNN_BENCH_HAVE_ONEDNN)
  const dnnl_version_t* dnnl = dnnl_version();
  benchmark::AddCustomContext("onednn_version", std::to_string(dnnl->major) + "." +
                                                    std::to_string(dnnl->minor) + "." +
                                                    std::to_string(dnnl->patch));
  gpurnn_bench::register_onednn_benchmarks(cases, options);
#endif
#if defined(GPURNN_BENCH_GPU)
  gpurnn_bench::register_gpu_benchmarks(options.grid, dtypes);
#endif
  PlainUsPerStepReporter display;
  benchmark::RunSpecifiedBenchmarks(&display);
  benchmark::Shutdown();
  return 0;
}
