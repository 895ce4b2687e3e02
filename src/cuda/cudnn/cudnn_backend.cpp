#include "cuda/cudnn/cudnn_backend.h"

#include <cuda_runtime.h>
#include <cudnn.h>

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kernels/cuda_status.h"
#include "cuda/cudnn/cudnn_descriptors.h"
#include "cuda/cudnn/cudnn_handle.h"
#include "cuda/cudnn/cudnn_layout.h"
#include "cuda/cudnn/cudnn_rules.h"
#include "cuda/cudnn/cudnn_setup.h"
#include "cuda/cudnn/cudnn_status.h"
#include "cuda/cudnn/cudnn_weights.h"
#include "cuda/device_guard.h"
#include "gpurnn/device.h"
#include "engine/validate_args.h"

namespace gpurnn::cuda {
namespace {

// What every call holds: its device current and this thread's cuDNN handle on its stream.
struct CallScope {
  CallScope(int device, void* stream_ptr)
      : guard(device),
        stream(static_cast<cudaStream_t>(stream_ptr)),
        handle(cudnn_handle_for(device)),
        on_stream(handle, stream) {}
  DeviceGuard guard;
  cudaStream_t stream;
  cudnnHandle_t handle;
  CudnnStreamScope on_stream;
};

unsigned char* at(void* base, const engine::Slot& s) { return s.in<unsigned char>(base); }
const unsigned char* at(const void* base, const engine::Slot& s) { return s.in<unsigned char>(base); }

// The batch's lengths (T for every sequence when omitted); validate_args has checked them.
std::vector<int> host_lengths(ConstTensorView lengths, const SequenceShape& s) {
  std::vector<int> out(static_cast<std::size_t>(s.batch), static_cast<int>(s.seq_len));
  if (!lengths.empty()) {
    const std::int32_t* len = lengths.data_as<std::int32_t>();
    for (std::int64_t b = 0; b < s.batch; ++b) out[static_cast<std::size_t>(b)] = len[b];
  }
  return out;
}

bool is_ragged(const std::vector<int>& lengths, std::int64_t seq_len) {
  for (int l : lengths) {
    if (l != seq_len) return true;
  }
  return false;
}

void copy_to_device(void* dst, const void* src, std::size_t bytes, cudaStream_t stream) {
  // From pageable memory the copy is staged before this returns, so `src` may go away after.
  GPURNN_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream));
}

void copy_on_device(void* dst, const void* src, std::size_t bytes, cudaStream_t stream) {
  GPURNN_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream));
}

// Everything a call derives from its arguments before talking to cuDNN.
struct Problem {
  std::shared_ptr<CudnnSetup> setup;
  SequenceShape shape;
  std::vector<int> lengths;
  CudnnSizes sizes;  // for every sequence of length T: what the caller's buffers were sized by
  CudnnWorkspaceLayout ws;
  CudnnReserveLayout rs;
  RnnDataDescOwner x_desc, y_desc;
  TensorDescOwner h_desc, c_desc;
};

class CudnnBackend final : public Backend {
 public:
  CudnnBackend(Device device, CudnnAlgorithm algorithm)
      : device_(device), algorithm_(algorithm), cache_(algorithm) {}

  std::string name() const override { return "cudnn"; }
  Device device() const override { return device_; }

  std::optional<std::string> unsupported_reason(const RNNDescriptor& desc, DType dtype) const override {
    try {
      desc.validate();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    if (auto why = cudnn_refusal(desc, dtype, algorithm_)) return why;
    RNNDescriptor no_dropout = desc;
    no_dropout.dropout = 0.0;
    const std::string key = to_string(no_dropout) + " " + to_string(dtype);
    {
      const std::lock_guard<std::mutex> lock(probed_mutex_);
      if (auto found = probed_.find(key); found != probed_.end()) return found->second;
    }
    std::optional<std::string> why = probe_refusal(no_dropout, dtype);
    const std::lock_guard<std::mutex> lock(probed_mutex_);
    probed_.emplace(key, why);
    return why;
  }

  // What the documented rules miss, cuDNN says when asked to build the descriptor and size a
  // one-sequence, two-step batch; persist_dynamic first builds its plan for that batch, on a
  // descriptor thrown away after, so that what its first call would meet (no NVRTC:
  // CUDNN_STATUS_NOT_SUPPORTED_RUNTIME_PREREQUISITE_MISSING; a problem its persistent kernel
  // cannot hold) is said here, in cuDNN's words. Plans for other batch sizes are built by the
  // calls (cudnn_setup.h) and can still be refused there. unsupported_reason keeps the answer per
  // problem (the plan is compiled with NVRTC: slow to ask again for every case of a sweep).
  std::optional<std::string> probe_refusal(const RNNDescriptor& no_dropout, DType dtype) const {
    try {
      const CallScope scope(device_.index, nullptr);
      const RnnDescriptor probe = make_rnn_descriptor(scope.handle, no_dropout, dtype, algorithm_);
      std::size_t bytes = 0;
      GPURNN_CUDNN_CHECK(cudnnGetRNNWeightSpaceSize(scope.handle, probe.rnn.get(), &bytes));
      const std::vector<int> one_sequence = {2};
      if (algorithm_ == CudnnAlgorithm::persist_dynamic) {
        GPURNN_CUDNN_CHECK(cudnnBuildRNNDynamic(scope.handle, probe.rnn.get(), static_cast<int>(one_sequence.size())));
      }
      const RnnDataDescOwner x = make_rnn_data_descriptor(dtype, false, 2, no_dropout.input_size, one_sequence);
      std::size_t work = 0, reserve = 0;
      GPURNN_CUDNN_CHECK(cudnnGetRNNTempSpaceSizes(scope.handle, probe.rnn.get(), CUDNN_FWD_MODE_TRAINING,
                                                   x.get(), &work, &reserve));
    } catch (const Error& e) {
      if (e.code() == ErrorCode::unsupported) return std::string(e.what());
      throw;
    }
    return std::nullopt;
  }

  std::size_t workspace_size(const RNNDescriptor& desc, const SequenceShape& shape, DType dtype,
                             ForwardMode mode) const override {
    check_problem("workspace_size", desc, shape, dtype, mode);
    const CallScope scope(device_.index, nullptr);
    const auto setup = cache_.get(scope.handle, desc, dtype, shape.batch);
    return cudnn_workspace_layout(cudnn_sizes(scope.handle, *setup, shape, mode), shape, mode).bytes;
  }

  std::size_t reserve_size(const RNNDescriptor& desc, const SequenceShape& shape,
                           DType dtype) const override {
    check_problem("reserve_size", desc, shape, dtype, ForwardMode::training);
    const CallScope scope(device_.index, nullptr);
    const auto setup = cache_.get(scope.handle, desc, dtype, shape.batch);
    const CudnnSizes sizes = cudnn_sizes(scope.handle, *setup, shape, ForwardMode::training);
    return cudnn_reserve_layout(sizes, desc, shape, dtype_size(dtype)).bytes;
  }

  void forward(const RNNWeights& weights, const ForwardArgs& args) override {
    const CallScope scope(device_.index, args.stream);
    check_weights("forward", weights, device_);
    const RNNDescriptor& d = weights.descriptor();
    const SequenceShape shape = sequence_shape_of("forward", "x", args.x, d.input_size, args.batch_first);
    check_forward(weights, args, shape);
    const bool training = args.mode == ForwardMode::training;
    Problem p = problem("forward", scope, weights, shape, host_lengths(args.lengths, shape), args.mode);
    check_buffer("forward", "workspace", args.workspace, p.ws.bytes, device_);
    if (training) check_buffer("forward", "reserve", args.reserve, p.rs.bytes, device_);

    void* ws = args.workspace.data();
    auto* dev_lengths = reinterpret_cast<std::int32_t*>(at(ws, p.ws.lengths));
    copy_to_device(dev_lengths, p.lengths.data(), p.lengths.size() * sizeof(int), scope.stream);
    const void* weight_space = prepare_weights(scope, *p.setup, weights, at(ws, p.ws.weights));
    void* rs = training ? args.reserve.data() : nullptr;
    GPURNN_CUDNN_CHECK(cudnnRNNForward(
        scope.handle, p.setup->rnn.rnn.get(), training ? CUDNN_FWD_MODE_TRAINING : CUDNN_FWD_MODE_INFERENCE,
        dev_lengths, p.x_desc.get(), args.x.data(), p.y_desc.get(), args.y.data(), p.h_desc.get(),
        args.h0.data(), args.hn.data(), p.c_desc.get(), args.c0.data(), args.cn.data(),
        p.setup->weight_space_bytes, weight_space, p.ws.work.bytes, at(ws, p.ws.work),
        training ? p.rs.cudnn.bytes : 0, training ? at(rs, p.rs.cudnn) : nullptr));
    if (!training) return;

    // What cuDNN's backward calls take besides the reserve; gpurnn's backward does not pass it.
    copy_on_device(at(rs, p.rs.lengths), dev_lengths, p.rs.lengths.bytes, scope.stream);
    copy_on_device(at(rs, p.rs.y), args.y.data(), p.rs.y.bytes, scope.stream);
    if (!args.h0.empty()) copy_on_device(at(rs, p.rs.h0), args.h0.data(), p.rs.h0.bytes, scope.stream);
    if (!args.c0.empty()) copy_on_device(at(rs, p.rs.c0), args.c0.data(), p.rs.c0.bytes, scope.stream);
    CudnnReserveHeader h{};
    h.magic = CudnnReserveHeader::kMagic;
    h.stage = CudnnReserveHeader::forward_done;
    h.seq_len = shape.seq_len;
    h.batch = shape.batch;
    h.batch_first = shape.batch_first ? 1 : 0;
    h.has_h0 = args.h0.empty() ? 0 : 1;
    h.has_c0 = args.c0.empty() ? 0 : 1;
    h.lengths_digest = engine::lengths_digest(p.lengths.data(), shape.seq_len, shape.batch);
    copy_to_device(at(rs, p.rs.header), &h, sizeof(h), scope.stream);
  }

  void backward_data(const RNNWeights& weights, const BackwardDataArgs& args) override {
    const CallScope scope(device_.index, args.stream);
    check_weights("backward_data", weights, device_);
    const RNNDescriptor& d = weights.descriptor();
    const SequenceShape shape = sequence_shape_of("backward_data", "dx", args.dx, d.input_size, args.batch_first);
    check_backward_data(weights, args, shape);
    Problem p = problem("backward_data", scope, weights, shape, host_lengths(args.lengths, shape),
                        ForwardMode::training);
    check_buffer("backward_data", "workspace", args.workspace, p.ws.bytes, device_);
    check_buffer("backward_data", "reserve", args.reserve, p.rs.bytes, device_);
    void* rs = args.reserve.data();
    CudnnReserveHeader h = read_header("backward_data", scope, rs, p, CudnnReserveHeader::forward_done);
    if (auto why = cudnn_backward_data_refusal(h.stage >= CudnnReserveHeader::backward_data_done)) {
      throw Error(ErrorCode::unsupported, std::string("backward_data: ") + *why);
    }
    check_argument(h.lengths_digest == engine::lengths_digest(p.lengths.data(), shape.seq_len, shape.batch),
                   "backward_data", "lengths",
                   "differ from the lengths of the forward that filled the reserve (pass the same)");

    void* ws = args.workspace.data();
    auto* dev_lengths = reinterpret_cast<std::int32_t*>(at(ws, p.ws.lengths));
    copy_to_device(dev_lengths, p.lengths.data(), p.lengths.size() * sizeof(int), scope.stream);
    const void* weight_space = prepare_weights(scope, *p.setup, weights, at(ws, p.ws.weights));
    if (is_ragged(p.lengths, shape.seq_len)) {
      // gpurnn promises zeros past each length; cuDNN's padding fill should write them too.
      GPURNN_CUDA_CHECK(cudaMemsetAsync(args.dx.data(), 0, args.dx.bytes(), scope.stream));
    }
    GPURNN_CUDNN_CHECK(cudnnRNNBackwardData_v8(
        scope.handle, p.setup->rnn.rnn.get(), dev_lengths, p.y_desc.get(), at(rs, p.rs.y),
        args.dy.data(), p.x_desc.get(), args.dx.data(), p.h_desc.get(),
        h.has_h0 != 0 ? at(rs, p.rs.h0) : nullptr, args.dhn.data(), args.dh0.data(), p.c_desc.get(),
        h.has_c0 != 0 ? at(rs, p.rs.c0) : nullptr, args.dcn.data(), args.dc0.data(),
        p.setup->weight_space_bytes, weight_space, p.ws.work.bytes, at(ws, p.ws.work),
        p.rs.cudnn.bytes, at(rs, p.rs.cudnn)));
    h.stage = CudnnReserveHeader::backward_data_done;
    copy_to_device(at(rs, p.rs.header), &h, sizeof(h), scope.stream);
  }

  void backward_weights(const RNNWeights& weights, const BackwardWeightsArgs& args,
                        RNNWeights& grads) override {
    const CallScope scope(device_.index, args.stream);
    check_weights("backward_weights", weights, device_);
    const RNNDescriptor& d = weights.descriptor();
    const SequenceShape shape = sequence_shape_of("backward_weights", "x", args.x, d.input_size, args.batch_first);
    check_backward_weights(weights, args, shape, grads);
    if (auto why = cudnn_weight_gradient_refusal(weights.dtype())) {
      throw Error(ErrorCode::unsupported, "backward_weights: " + *why);
    }
    // The lengths come from the reserve; sizes are checked with T for all, as the queries were.
    Problem p = problem("backward_weights", scope, weights, shape, {}, ForwardMode::training);
    check_buffer("backward_weights", "workspace", args.workspace, p.ws.bytes, device_);
    check_buffer("backward_weights", "reserve", args.reserve, p.rs.bytes, device_);
    const void* rs = args.reserve.data();
    const CudnnReserveHeader h =
        read_header("backward_weights", scope, rs, p, CudnnReserveHeader::backward_data_done);
    p.lengths.resize(static_cast<std::size_t>(shape.batch));
    GPURNN_CUDA_CHECK(cudaMemcpyAsync(p.lengths.data(), at(rs, p.rs.lengths), p.rs.lengths.bytes,
                                      cudaMemcpyDeviceToHost, scope.stream));
    GPURNN_CUDA_CHECK(cudaStreamSynchronize(scope.stream));
    describe_data(p, weights);

    void* ws = args.workspace.data();
    void* space = at(ws, p.ws.dweights);
    const CudnnWeightMap& map = cache_.weight_map(scope.handle, *p.setup, space, weights.numel());
    void* target = map.identity ? grads.flat().data() : space;
    const std::size_t space_bytes = p.setup->weight_space_bytes;
    // cuDNN only adds into the gradient space (CUDNN_WGRAD_MODE_ADD), so overwrite starts at 0.
    if (args.grad_mode == GradMode::overwrite) {
      GPURNN_CUDA_CHECK(cudaMemsetAsync(target, 0, space_bytes, scope.stream));
    } else if (!map.identity) {
      run_weight_copies(map.to_cudnn, grads.flat().data(), space, dtype_size(weights.dtype()), scope.stream);
    }
    GPURNN_CUDNN_CHECK(cudnnRNNBackwardWeights_v8(
        scope.handle, p.setup->rnn.rnn.get(), CUDNN_WGRAD_MODE_ADD,
        reinterpret_cast<const std::int32_t*>(at(rs, p.rs.lengths)), p.x_desc.get(), args.x.data(),
        p.h_desc.get(), h.has_h0 != 0 ? at(rs, p.rs.h0) : nullptr, p.y_desc.get(), at(rs, p.rs.y),
        space_bytes, target, p.ws.work.bytes, at(ws, p.ws.work), p.rs.cudnn.bytes,
        const_cast<unsigned char*>(at(rs, p.rs.cudnn))));
    if (!map.identity) {
      run_weight_copies(map.from_cudnn, space, grads.flat().data(), dtype_size(weights.dtype()), scope.stream);
    }
  }

 private:
  // Sizes first, so a refused problem is refused before anything else is asked of cuDNN.
  void check_problem(const char* call, const RNNDescriptor& desc, const SequenceShape& shape,
                     DType dtype, ForwardMode mode) const {
    desc.validate();
    check_argument(shape.seq_len > 0, call, "shape.seq_len", "must be positive, got " + std::to_string(shape.seq_len));
    check_argument(shape.batch > 0, call, "shape.batch", "must be positive, got " + std::to_string(shape.batch));
    refuse_unsupported(call, desc, dtype, mode);
  }

  void refuse_unsupported(const char* call, const RNNDescriptor& desc, DType dtype, ForwardMode mode) const {
    std::optional<std::string> why = cudnn_refusal(desc, dtype, algorithm_);
    if (!why && mode == ForwardMode::training) why = cudnn_training_refusal(desc);
    if (why) throw Error(ErrorCode::unsupported, std::string(call) + ": " + *why);
  }

  // The setup, sizes, layouts and (for known lengths) the data descriptors of a call.
  Problem problem(const char* call, const CallScope& scope, const RNNWeights& weights,
                  const SequenceShape& shape, std::vector<int> lengths, ForwardMode mode) {
    const RNNDescriptor& d = weights.descriptor();
    refuse_unsupported(call, d, weights.dtype(), mode);
    Problem p;
    p.shape = shape;
    p.setup = cache_.get(scope.handle, d, weights.dtype(), shape.batch);
    p.sizes = cudnn_sizes(scope.handle, *p.setup, shape, mode);
    p.ws = cudnn_workspace_layout(p.sizes, shape, mode);
    p.rs = cudnn_reserve_layout(p.sizes, d, shape, dtype_size(weights.dtype()));
    if (mode == ForwardMode::inference) p.rs = {};
    const std::int64_t states = static_cast<std::int64_t>(d.num_layers) * d.num_directions();
    p.h_desc = make_state_descriptor(weights.dtype(), states, shape.batch, d.state_size());
    p.c_desc = make_state_descriptor(weights.dtype(), states, shape.batch, d.hidden_size);
    if (lengths.empty()) return p;
    if (auto why = cudnn_lengths_refusal(algorithm_, is_ragged(lengths, shape.seq_len))) {
      throw Error(ErrorCode::unsupported, std::string(call) + ": " + *why);
    }
    p.lengths = std::move(lengths);
    describe_data(p, weights);
    // The caller's buffers were sized for full lengths; these lengths must not need more.
    const CudnnSizes actual = cudnn_sizes(scope.handle, *p.setup, shape, mode, p.lengths);
    if (actual.work > p.sizes.work || actual.reserve > p.sizes.reserve) {
      throw Error(ErrorCode::internal, std::string(call) +
                                           ": cuDNN asks more workspace or reserve for this batch's lengths than for "
                                           "full-length sequences, which the size queries assumed");
    }
    return p;
  }

  static void describe_data(Problem& p, const RNNWeights& weights) {
    const RNNDescriptor& d = weights.descriptor();
    p.x_desc = make_rnn_data_descriptor(weights.dtype(), p.shape.batch_first, p.shape.seq_len, d.input_size, p.lengths);
    p.y_desc = make_rnn_data_descriptor(weights.dtype(), p.shape.batch_first, p.shape.seq_len, d.output_size(), p.lengths);
  }

  // The weights as a cuDNN weight space: the flat buffer itself, or a copy in `space`.
  const void* prepare_weights(const CallScope& scope, CudnnSetup& setup, const RNNWeights& weights, void* space) {
    const CudnnWeightMap& map = cache_.weight_map(scope.handle, setup, space, weights.numel());
    if (map.identity) return weights.flat().data();
    run_weight_copies(map.to_cudnn, weights.flat().data(), space, dtype_size(weights.dtype()), scope.stream);
    return space;
  }

  // Reads the reserve's header (waiting for the stream) and checks what filled it.
  static CudnnReserveHeader read_header(const char* call, const CallScope& scope, const void* rs,
                                        const Problem& p, CudnnReserveHeader::Stage needed) {
    CudnnReserveHeader h{};
    GPURNN_CUDA_CHECK(cudaMemcpyAsync(&h, at(rs, p.rs.header), sizeof(h), cudaMemcpyDeviceToHost, scope.stream));
    GPURNN_CUDA_CHECK(cudaStreamSynchronize(scope.stream));
    check_argument(h.magic == CudnnReserveHeader::kMagic && h.stage >= CudnnReserveHeader::forward_done,
                   call, "reserve", "was not filled by a training forward of the cudnn backend");
    check_argument(h.seq_len == p.shape.seq_len && h.batch == p.shape.batch, call, "reserve",
                   "was filled by a forward with T=" + std::to_string(h.seq_len) + ", B=" +
                       std::to_string(h.batch) + ", but this call has T=" + std::to_string(p.shape.seq_len) +
                       ", B=" + std::to_string(p.shape.batch));
    check_argument((h.batch_first != 0) == p.shape.batch_first, call, "batch_first",
                   std::string("is ") + (p.shape.batch_first ? "true" : "false") +
                       ", but the forward that filled the reserve had the other layout");
    check_argument(h.stage >= needed, call, "reserve",
                   "has not been through backward_data; call it before backward_weights");
    return h;
  }

  Device device_;
  CudnnAlgorithm algorithm_;
  mutable CudnnSetupCache cache_;
  mutable std::mutex probed_mutex_;
  mutable std::map<std::string, std::optional<std::string>> probed_;  // probe_refusal's answers
};

}  // namespace

std::unique_ptr<Backend> make_cudnn_backend(Device device, const BackendOptions& options) {
  check_argument(!device.is_cpu(), "make_backend", "device", "must be a CUDA device, got cpu");
  const CudnnAlgorithm algorithm = parse_cudnn_algorithm(options.algorithm);
  const int count = cuda_device_count();
  if (device.index < 0 || device.index >= count) {
    throw Error(ErrorCode::unsupported, "make_backend: device " + to_string(device) +
                                            " is not present (" + std::to_string(count) +
                                            " CUDA devices found)");
  }
  return std::make_unique<CudnnBackend>(device, algorithm);
}

}  // namespace gpurnn::cuda
