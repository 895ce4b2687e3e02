// The memory floor of a batch-1 step: one thread reading a buffer the size of an LSTM's W_hh
// (4·H·H f32: 4 MiB at H 512, 16 MiB at H 1024) as fast as it can. At batch 1 a step's GEMV
// reads every weight of W_hh once, so no f32 step on one thread can take less than this row's
// time; rows floor/read/MiB:<n> with a GB_per_s counter, in the same run as the steps they bound.

#include <cstdint>
#include <string>
#include <vector>

#include "bench_support.h"

namespace gpurnn_bench {
namespace {

// The sum of n words, in eight independent lanes the compiler vectorises (integer adds, so
// reordering them is allowed): bound by how fast the words arrive, not by the adds.
__attribute__((optimize("O3"))) std::uint64_t sum_words(const std::uint64_t* p, std::size_t n) {
  std::uint64_t lanes[8] = {};
  for (std::size_t i = 0; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) lanes[j] += p[i + j];
  }
  std::uint64_t total = 0;
  for (std::uint64_t v : lanes) total += v;
  return total;
}

void read_buffer(benchmark::State& state, std::size_t mib) {
  std::vector<std::uint64_t> words((mib << 20) / sizeof(std::uint64_t), 1);
  std::uint64_t total = sum_words(words.data(), words.size());  // faults the pages in
  for (auto _ : state) {
    total += sum_words(words.data(), words.size());
    benchmark::DoNotOptimize(total);
    benchmark::ClobberMemory();
  }
  state.SetLabel("threads=1");
  // Bytes per iteration in GB, over the time: GB/s.
  state.counters["GB_per_s"] =
      benchmark::Counter(static_cast<double>(mib << 20) / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

void register_floor_benchmarks() {
  for (std::size_t mib : {4, 16}) {
    benchmark::RegisterBenchmark(("floor/read/MiB:" + std::to_string(mib)).c_str(),
                                 [mib](benchmark::State& state) { read_buffer(state, mib); })
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace gpurnn_bench
