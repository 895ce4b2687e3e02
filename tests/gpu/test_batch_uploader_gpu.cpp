// The cuda BatchUploader: a host batch comes back from the device byte for byte, carry_state
// passes through, batches in a row (cycling both pinned slots) stay intact, a non-blocking compute
// stream is made to wait for the copy, and misuse is a clear error. Skipped without a GPU.

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "gpu_test_support.h"
#include "test_support.h"
#include "platform/batch_uploader.h"

namespace gpurnn::testing {
namespace {

using train::Batch;

// A token batch [steps, rows] with f32 value targets [steps, rows, 2]; `salt` makes each distinct.
Batch host_batch(std::int64_t steps, std::int64_t rows, std::int32_t salt) {
  std::vector<std::int32_t> tokens(static_cast<std::size_t>(steps * rows));
  for (std::size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<std::int32_t>(i * 31) + salt;
  std::vector<std::int32_t> lengths(static_cast<std::size_t>(rows));
  for (std::size_t r = 0; r < lengths.size(); ++r) lengths[r] = static_cast<std::int32_t>(1 + (r + salt) % steps);
  Batch b;
  b.inputs = Tensor::from_host<std::int32_t>({steps, rows}, tokens.data());
  b.targets = random_tensor({steps, rows, 2}, DType::f32, 5, static_cast<std::uint64_t>(salt));
  b.lengths = Tensor::from_host<std::int32_t>({rows}, lengths.data());
  b.carry_state.assign(static_cast<std::size_t>(rows), 0);
  for (std::size_t r = 0; r < b.carry_state.size(); r += 2) b.carry_state[r] = 1;
  return b;
}

// Same shape, dtype and bytes; `device` holds a CUDA tensor read back through Tensor::to.
void expect_same_bytes(const Tensor& device, const Tensor& host, const char* what) {
  ASSERT_EQ(device.defined(), host.defined()) << what;
  if (!host.defined()) return;
  EXPECT_EQ(device.device(), Device::cuda(0)) << what;
  const Tensor back = to_host(device);
  ASSERT_EQ(back.shape(), host.shape()) << what;
  ASSERT_EQ(back.dtype(), host.dtype()) << what;
  EXPECT_EQ(std::memcmp(back.data(), host.data(), host.bytes()), 0) << what;
}

void expect_same_batch(const Batch& device, const Batch& host) {
  expect_same_bytes(device.inputs, host.inputs, "inputs");
  expect_same_bytes(device.targets, host.targets, "targets");
  expect_same_bytes(device.lengths, host.lengths, "lengths");
  EXPECT_EQ(device.carry_state, host.carry_state);
}

TEST(BatchUploaderGpu, RoundTripOnTheLegacyStream) {
  GPURNN_REQUIRE_GPU();
  auto uploader = train::make_batch_uploader(Device::cuda(0));
  uploader->begin(host_batch(6, 5, 1));  // the host batch may go away once begin() returns
  const Batch device = uploader->finish(nullptr);
  expect_same_batch(device, host_batch(6, 5, 1));
}

// Three batches in a row: slot 0, slot 1, slot 0 again (its first copy must have finished
// before its pinned bytes are rewritten); every device batch keeps its own data. Sizes grow, so
// the slots' pinned buffers are reallocated on the way.
TEST(BatchUploaderGpu, BatchesInARowStayIntact) {
  GPURNN_REQUIRE_GPU();
  auto uploader = train::make_batch_uploader(Device::cuda(0));
  std::vector<Batch> hosts, devices;
  for (std::int32_t k = 0; k < 3; ++k) {
    hosts.push_back(host_batch(4 + 3 * k, 3 + k, 10 * k));
    uploader->begin(hosts.back());
    devices.push_back(uploader->finish(nullptr));
  }
  for (std::size_t k = 0; k < hosts.size(); ++k) {
    SCOPED_TRACE("batch " + std::to_string(k));
    expect_same_batch(devices[k], hosts[k]);
  }
}

// finish(stream) makes a non-blocking stream wait for the copy: a read queued there right after
// sees the data, with no host synchronisation in between.
TEST(BatchUploaderGpu, NonBlockingComputeStreamWaitsForTheCopy) {
  GPURNN_REQUIRE_GPU();
  cudaStream_t stream = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
  auto uploader = train::make_batch_uploader(Device::cuda(0));
  const Batch host = host_batch(64, 32, 3);
  uploader->begin(host);
  const Batch device = uploader->finish(stream);
  std::vector<unsigned char> seen(host.targets.bytes(), 0);
  ASSERT_EQ(cudaMemcpyAsync(seen.data(), device.targets.data(), seen.size(), cudaMemcpyDeviceToHost, stream),
            cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  EXPECT_EQ(std::memcmp(seen.data(), host.targets.data(), seen.size()), 0);
  ASSERT_EQ(cudaStreamDestroy(stream), cudaSuccess);
}

TEST(BatchUploaderGpu, OmittedTensorsStayOmitted) {
  GPURNN_REQUIRE_GPU();
  auto uploader = train::make_batch_uploader(Device::cuda(0));
  Batch host = host_batch(3, 2, 0);
  host.targets = Tensor();
  host.carry_state.clear();
  uploader->begin(host);
  const Batch device = uploader->finish(nullptr);
  expect_same_batch(device, host);
}

TEST(BatchUploaderGpu, MisuseIsAnError) {
  GPURNN_REQUIRE_GPU();
  auto uploader = train::make_batch_uploader(Device::cuda(0));
  expect_error([&] { uploader->finish(nullptr); }, ErrorCode::invalid_argument,
               {"BatchUploader::finish", "no batch was begun"});
  Batch on_device = host_batch(3, 2, 0);
  on_device.inputs = to_cuda(on_device.inputs);
  expect_error([&] { uploader->begin(on_device); }, ErrorCode::invalid_argument,
               {"BatchUploader::begin", "host.inputs", "expected a CPU tensor"});
  const Batch host = host_batch(3, 2, 0);
  uploader->begin(host);
  expect_error([&] { uploader->begin(host); }, ErrorCode::invalid_argument,
               {"BatchUploader::begin", "already in flight"});
  expect_same_batch(uploader->finish(nullptr), host);  // the first upload is unharmed
}

TEST(BatchUploaderGpu, MissingDeviceIsUnsupported) {
  GPURNN_REQUIRE_GPU();
  expect_error([] { train::make_batch_uploader(Device::cuda(cuda_device_count())); },
               ErrorCode::unsupported, {"make_batch_uploader", "not present"});
}

}  // namespace
}  // namespace gpurnn::testing
