#pragma once
// One benchmark case set up on one gpurnn backend: weights, random inputs and every output,
// workspace, reserve and gradient buffer allocated on the backend's device before timing, so
// run() is only the computation. Shared by gpurnn_bench and `gpurnn bench`.
//
// Inputs are the same on every backend: weights init_uniform(kWeightSeed), x and (fwd_bwd) dy
// uniform in [-1, 1] from kInputSeed (never zeros), no initial state. Every tensor is in the
// case's dtype (BenchCase::dtype), the weight gradients of a half case f32; half inputs and
// weights are the f32 ones rounded to the dtype.

#include <cstdint>
#include <memory>
#include <string>

#include "gpurnn/backend.h"
#include "gpurnn/rnn_weights.h"
#include "gpurnn/tensor.h"
#include "perf/bench_cases.h"

namespace gpurnn::perf {

constexpr std::uint64_t kWeightSeed = 1234;
constexpr std::uint64_t kInputSeed = 42;

struct BackendCase {
  BenchCase spec;
  std::string unsupported;  // why the backend cannot run the case ("" when it can)

  std::unique_ptr<Backend> backend;
  RNNWeights weights, grads;                // grads: fwd_bwd only
  std::shared_ptr<const PreparedWeights> prepared;  // spec.prepared only: prepared from `weights`
  Tensor x, y, hn, cn, workspace, reserve;  // forward (cn: LSTM only)
  Tensor dy, dx, dh0, dc0;                  // fwd_bwd only (dc0: LSTM only)
  ForwardArgs fwd;
  BackwardDataArgs bwd_data;
  BackwardWeightsArgs bwd_weights;

  // One iteration: forward, and for fwd_bwd backward_data and backward_weights. Asynchronous on
  // a GPU; synchronize() waits for it.
  void run();
  // Waits until the device has finished every run() (a device-to-host copy of hn).
  void synchronize() const;
  // "" when every output (y, hn, cn, dx, dh0, dc0, weight gradients) is finite; else what is
  // not and where.
  std::string check_finite() const;
};

// Builds `c` on backend `c.backend` with BackendOptions::num_threads = `num_threads`, every call
// of run() queued on `stream` (a cudaStream_t for a GPU backend; null: the default stream); when
// the backend reports the case unsupported, only `spec` and `unsupported` are set. Throws
// gpurnn::Error for an unknown backend or a device this machine does not have.
std::unique_ptr<BackendCase> make_backend_case(const BenchCase& c, int num_threads, void* stream = nullptr);

}  // namespace gpurnn::perf
