// Many callers of one model (issue 33): callers/<cell>/infer/H:<h>/B:<b>/T:<t>/callers:<n>. Each
// iteration makes kForwards RNN::forward calls on one shared RNN (prepared weights, --threads as
// the backend's thread count), spread over n caller threads (as a server's request threads
// would call; started once per row), so the rows do the same work and their times compare directly:
// callers:4 should take no longer than callers:1 in the same run. The cpu backend runs one caller's loops on the worker
// pool at a time and the others' on their own threads (src/cpu/worker_pool.h), so callers
// share the cores instead of each starting a pool of every core.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "gpurnn/rnn.h"

namespace gpurnn_bench {
namespace {

constexpr int kForwards = 8;

void run_callers(benchmark::State& state, gpurnn::CellKind cell, std::int64_t hidden, std::int64_t batch,
                 std::int64_t steps, int callers, const BenchOptions& options) {
  gpurnn::RNNDescriptor d;
  d.cell = cell;
  d.input_size = hidden;
  d.hidden_size = hidden;
  gpurnn::BackendOptions backend;
  backend.num_threads = options.threads;
  gpurnn::RNNWeights w(d, gpurnn::DType::f32);
  w.init_uniform(1);
  gpurnn::RNN rnn(std::move(w), "cpu", backend);
  const gpurnn::Tensor x = gpurnn::Tensor::zeros({steps, batch, hidden}, gpurnn::DType::f32);
  rnn.forward(x);  // prepares the weights once, before the timing
  // The callers live for the whole row (no thread start inside the timing); each iteration
  // hands them a round and waits until all of its forwards are done.
  std::mutex mutex;
  std::condition_variable changed;
  std::int64_t round = 0;
  int finished = 0;
  bool stop = false;
  std::vector<std::thread> threads;
  for (int t = 0; t < callers; ++t) {
    threads.emplace_back([&, t] {
      std::int64_t seen = 0;
      for (;;) {
        {
          std::unique_lock<std::mutex> lock(mutex);
          changed.wait(lock, [&] { return stop || round != seen; });
          if (stop) return;
          seen = round;
        }
        for (int f = t; f < kForwards; f += callers) benchmark::DoNotOptimize(rnn.forward(x).y.data());
        {
          const std::lock_guard<std::mutex> lock(mutex);
          ++finished;
        }
        changed.notify_all();
      }
    });
  }
  for (auto _ : state) {
    std::unique_lock<std::mutex> lock(mutex);
    finished = 0;
    ++round;
    changed.notify_all();
    changed.wait(lock, [&] { return finished == callers; });
  }
  {
    const std::lock_guard<std::mutex> lock(mutex);
    stop = true;
  }
  changed.notify_all();
  for (std::thread& t : threads) t.join();
  state.counters["sequences_per_s"] =
      benchmark::Counter(static_cast<double>(batch * kForwards), benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel("threads=" + std::to_string(options.threads));
}

}  // namespace

void register_caller_benchmarks(const BenchOptions& options) {
  for (const auto& [cell, name] : {std::pair{gpurnn::CellKind::lstm, "lstm"}, std::pair{gpurnn::CellKind::gru, "gru"}}) {
    for (std::int64_t batch : {1, 32}) {
      for (int callers : {1, 4}) {
        const std::string row = std::string("callers/") + name + "/infer/H:256/B:" + std::to_string(batch) +
                                "/T:25/callers:" + std::to_string(callers);
        benchmark::RegisterBenchmark(row.c_str(),
                                     [cell = cell, batch, callers, options](benchmark::State& state) {
                                       run_callers(state, cell, 256, batch, 25, callers, options);
                                     })
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
}

}  // namespace gpurnn_bench
