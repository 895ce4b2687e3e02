#pragma once
// Helpers shared by the test suites: random inputs (never zeros), poisoned outputs, error
// norms, and the bridge from the library's types to the naive reference.

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gpurnn/gpurnn.h"
#include "reference/naive_rnn.h"

namespace gpurnn::testing {

// Uniform in [-scale, scale), reproducible from (seed, stream). Dtype f32 or f64; bf16 and f16 get
// the f32 draw rounded to nearest.
Tensor random_tensor(Shape shape, DType dtype, std::uint64_t seed, std::uint64_t stream,
                     double scale = 1.0);
// A tensor whose bytes all differ (byte i is 7i + 3 mod 256): for exact round trips of any dtype.
Tensor numbered(Shape shape, DType dtype);
// A tensor whose every element is NaN (floating) or 0x5A bytes (integers): an element a call
// forgets to write is caught by the comparison.
Tensor poisoned(Shape shape, DType dtype);
// A byte buffer filled with NaN patterns.
Tensor poisoned_bytes(std::size_t bytes);

// ||a - b|| / ||b||; NaN anywhere gives +inf. Shapes must match.
double relative_error(const Tensor& a, const Tensor& b);
double relative_error(const std::vector<double>& a, const std::vector<double>& b);
std::vector<double> to_vector(const Tensor& t);
bool all_finite(const Tensor& t);

// d loss / d t[i] by central differences with step 1e-6 at i = 0, stride, 2 stride, ... (every
// element by default), perturbing `t` (f64, host; shares storage with what loss() reads) in
// place and restoring each element.
std::vector<double> numeric_gradient(Tensor t, const std::function<double()>& loss, std::int64_t stride = 1);
// The elements of `t` (f64) at 0, stride, 2 stride, ...: the analytic side of a strided
// numeric_gradient.
std::vector<double> strided_elements(const Tensor& t, std::int64_t stride);

// The reference's view of a descriptor and its weights.
gpurnn_ref::Config reference_config(const RNNDescriptor& desc);
gpurnn_ref::Params reference_params(const RNNWeights& weights);

// Every output and gradient of one training forward + backward, run through the Backend
// interface with poisoned outputs, workspace and reserve.
struct FullRun {
  Tensor y, hn, cn;
  Tensor dx, dh0, dc0;
  RNNWeights dweights;
};
struct FullRunInputs {
  Tensor x;        // [T, B, I] (or [B, T, I] when batch_first)
  Tensor lengths;  // optional
  Tensor h0, c0;   // optional
  Tensor dy;       // like y
  Tensor dhn, dcn; // optional
  bool batch_first = false;
  std::uint64_t dropout_seed = 0;
  ForwardMode mode = ForwardMode::training;  // inference: only y, hn, cn are produced
  // When set, every call takes these (Backend::prepare of the weights, on the backend's device)
  // instead of the weights.
  const PreparedWeights* prepared = nullptr;
};
FullRun full_run(Backend& backend, const RNNWeights& weights, const FullRunInputs& in);

// One backend per name for the whole process, so what a backend caches per shape (cuDNN's
// persist_dynamic plans, the persistent kernel's launch plans) is built once per shape, not once
// per test case. Tests run one at a time in a process, so sharing is safe.
inline Backend& shared_backend(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Backend>> backends;
  std::unique_ptr<Backend>& b = backends[name];
  if (!b) b = make_backend(name);
  return *b;
}

// Runs fn and expects gpurnn::Error with `code` whose message contains every one of `words`
// (any other exception, or none, is a failure).
void expect_error(const std::function<void()>& fn, ErrorCode code,
                  std::initializer_list<std::string> words);

// A fresh directory under the test temp dir, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::vector<std::string> entries() const;  // file names inside, in no order
  bool empty() const { return entries().empty(); }

 private:
  std::string path_;
};

// The whole content of a file ("" when it cannot be read).
std::string read_bytes(const std::string& path);

// Runs `command` through the shell; its exit code (-1 when it did not exit normally) and its
// stdout and stderr together.
struct CommandResult {
  int exit_code;
  std::string output;
};
CommandResult run_command(const std::string& command);

// A readable name for parameterised tests: "lstm_I7_H5_L2_bi_proj3_nobias".
std::string case_name(const RNNDescriptor& desc);

}  // namespace gpurnn::testing
