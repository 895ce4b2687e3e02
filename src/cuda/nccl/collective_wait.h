#pragma once
// Waiting for a collective without hanging on a dead peer (internal header; host code only, no
// CUDA or NCCL: the NCCL communicator passes its calls in, and tests/train/test_collective_wait.cpp
// passes a fake that fails asynchronously).
//
// NCCL reports a peer that died or a network that failed only through ncclCommGetAsyncError: a
// stream synchronise after the collective never returns, so the job hangs and abort() is never
// reached. The wait therefore polls both, with a short sleep between polls, and ends the job
// through `abort` when the communicator reports an error.

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "gpurnn/error.h"

namespace gpurnn::train {

struct CollectiveWait {
  // True once the queued work is complete (cudaStreamQuery: cudaSuccess); throws on a CUDA error.
  std::function<bool()> done;
  // "" while the communicator is healthy, else what went wrong (ncclCommGetAsyncError).
  std::function<std::string()> async_error;
  // Ends the job (Communicator::abort: aborts the communicator so no rank waits any longer, then
  // every rank exits). Expected not to return.
  std::function<void(const std::string& message)> abort;
  std::chrono::microseconds poll_interval{100};
};

// Returns once `wait.done()`; calls `wait.abort("<what>: <error>")` as soon as the communicator
// reports an error, including one that ended the work early (the error is read after `done`).
// Throws Error(backend_error) if `abort` returns.
inline void wait_for_collective(const CollectiveWait& wait, const std::string& what) {
  for (;;) {
    const bool finished = wait.done();
    const std::string error = wait.async_error();
    if (!error.empty()) {
      const std::string message = what + " failed: " + error;
      wait.abort(message);
      throw Error(ErrorCode::backend_error, message);
    }
    if (finished) return;
    std::this_thread::sleep_for(wait.poll_interval);
  }
}

}  // namespace gpurnn::train
