// CUDA storage and a non-blocking stream (src/cuda/device_storage.cpp): storage is freed in the
// order of the legacy default stream, so a buffer last used on a cudaStreamNonBlocking stream must
// not be freed before that stream has done. order_frees_after(device, stream) makes the frees wait
// for it, and the training layer (RnnLayer) calls it when it replaces a buffer too small for a
// batch. Each test holds the stream with a host function until it has looked at the legacy stream:
// while held, the legacy stream must have the wait queued. Skipped, with the reason, without a GPU.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "core/device_allocator.h"
#include "gpu/gpu_test_support.h"
#include "gpurnn/gpurnn.h"
#include "test_support.h"
#include "train/rnn_layer.h"

namespace gpurnn::testing {
namespace {

// A non-blocking stream that holds at a host function until release() (or 20 s, so that a test
// that waits on the legacy stream by mistake fails instead of hanging).
class HeldStream {
 public:
  HeldStream() {
    EXPECT_EQ(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), cudaSuccess);
    EXPECT_EQ(cudaLaunchHostFunc(stream_, &HeldStream::hold, &released_), cudaSuccess);
  }
  ~HeldStream() {
    release();
    (void)cudaStreamSynchronize(stream_);
    (void)cudaStreamDestroy(stream_);
  }
  HeldStream(const HeldStream&) = delete;
  HeldStream& operator=(const HeldStream&) = delete;

  cudaStream_t get() const { return stream_; }
  void release() { released_ = true; }

 private:
  static void hold(void* released) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!static_cast<std::atomic<bool>*>(released)->load() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  cudaStream_t stream_ = nullptr;
  std::atomic<bool> released_{false};
};

TEST(CudaStorageStreams, FreesWaitForTheStreamNamed) {
  GPURNN_REQUIRE_GPU();
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);  // no earlier test's frees still pending
  HeldStream held;
  detail::order_frees_after(Device::cuda(0), nullptr);  // the legacy stream itself: nothing to wait for
  EXPECT_EQ(cudaStreamQuery(cudaStreamLegacy), cudaSuccess);
  detail::order_frees_after(Device::cuda(0), held.get());
  EXPECT_EQ(cudaStreamQuery(cudaStreamLegacy), cudaErrorNotReady) << "the legacy stream waits for the held one";
  held.release();
  EXPECT_EQ(cudaStreamSynchronize(held.get()), cudaSuccess);
  EXPECT_EQ(cudaStreamSynchronize(cudaStreamLegacy), cudaSuccess);
}

// A training forward on a bigger batch replaces the workspace and reserve that the previous
// forward's work (still queued on the held stream) uses: their frees must wait for it. Before
// the fix they were freed at once (the legacy stream stayed idle) and the pool could hand that
// memory to the next allocation while the held stream's kernels were still to use it.
TEST(CudaStorageStreams, TrainingLayerFreesARegrownBufferAfterItsStream) {
  GPURNN_REQUIRE_GPU();
  RNNDescriptor d;
  d.cell = CellKind::lstm;
  d.input_size = 5;
  d.hidden_size = 8;
  d.num_layers = 2;
  train::RnnLayer layer(d, DType::f32, "cuda", 3);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  const Tensor small = random_tensor({4, 2, d.input_size}, DType::f32, 1, 1).to(Device::cuda(0));
  const Tensor big = random_tensor({4, 9, d.input_size}, DType::f32, 1, 2).to(Device::cuda(0));
  HeldStream held;
  layer.forward(small, Tensor(), Tensor(), Tensor(), ForwardMode::training, 0, held.get());
  layer.forward(big, Tensor(), Tensor(), Tensor(), ForwardMode::training, 0, held.get());
  EXPECT_EQ(cudaStreamQuery(cudaStreamLegacy), cudaErrorNotReady)
      << "the frees of the replaced buffers wait for the held stream";
  held.release();
  EXPECT_EQ(cudaStreamSynchronize(held.get()), cudaSuccess);
  EXPECT_EQ(cudaStreamSynchronize(cudaStreamLegacy), cudaSuccess);
}

}  // namespace
}  // namespace gpurnn::testing
