#pragma once
// A Backend that runs the standard algorithm (network_loop.h) on a platform: the argument
// checks, size queries and dtype dispatch are the same for every platform, written once here.
// A Platform provides:
//   const char* name() const;  Device device() const;
//   std::optional<std::string> unsupported_reason(const RNNDescriptor&, DType) const;
//   auto enter() const;                                // a scope object held during each call
//                                                      // (the CUDA platform's device guard)
//   template <class T> auto ops(void* stream) const;   // the Ops of step_ops.h
//   ReserveHeader read_header(const ReserveHeader* in_reserve, void* stream) const;
// Prepared weights (Backend::prepare) are a StandardPrepared: the snapshot and the Ops'
// PreparedCache (prepared_gemms.h) where they declare one, which the calls given them hand to
// the Ops; for Ops without one they are the snapshot alone.
// bf16 and f16 calls run where the Platform computes half (half_calls.h): on the f32 network,
// by the README's precision rule; other platforms refuse them (unsupported_reason).

#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "engine/buffer_layout.h"
#include "engine/half_calls.h"
#include "engine/network_loop.h"
#include "engine/prepared_check.h"
#include "engine/prepared_gemms.h"
#include "gpurnn/backend.h"
#include "gpurnn/detail/dtype_dispatch.h"
#include "engine/validate_args.h"

namespace gpurnn::engine {

// The Ops a Platform gives for element type T, and their PreparedCache (prepared_gemms.h;
// void when they declare none).
template <class Platform, class T>
using PlatformOps = decltype(std::declval<const Platform&>().template ops<T>(nullptr));
template <class Platform, class T>
using PlatformCache = typename prepared_cache_of<PlatformOps<Platform, T>>::type;
template <class Platform, class T>
inline constexpr bool has_prepared_cache = !std::is_void_v<PlatformCache<Platform, T>>;

// StandardBackend's prepared weights: the snapshot and, per element type whose Ops declare a
// PreparedCache, that cache. Half weights also keep their widened f32 copy, which the f32 cache
// packs from.
template <class Platform>
class StandardPrepared final : public PreparedWeights {
 public:
  StandardPrepared(RNNWeights snapshot, std::string backend, RNNWeights widened = {})
      : PreparedWeights(std::move(snapshot), std::move(backend)), widened_(std::move(widened)) {}

  // The f32 copy of half weights, or null.
  const RNNWeights* widened() const { return widened_.flat().defined() ? &widened_ : nullptr; }

  // The cache the Ops for T use (only where has_prepared_cache<Platform, T>).
  template <class T>
  PlatformCache<Platform, T>* cache() const {
    return &std::get<std::is_same_v<T, float> ? 0 : 1>(caches_);
  }

  std::size_t packed_bytes() const override {
    std::size_t bytes = widened() != nullptr ? widened_.flat().bytes() : 0;
    if constexpr (has_prepared_cache<Platform, float>) {
      bytes += PlatformOps<Platform, float>::packed_bytes(*cache<float>());
    }
    if constexpr (has_prepared_cache<Platform, double>) {
      bytes += PlatformOps<Platform, double>::packed_bytes(*cache<double>());
    }
    return bytes;
  }

 private:
  template <class T>
  using Slot = std::conditional_t<has_prepared_cache<Platform, T>, PlatformCache<Platform, T>, std::monostate>;
  // The caches are thread-safe and filled on first use by calls that see the object as const.
  mutable std::tuple<Slot<float>, Slot<double>> caches_;
  RNNWeights widened_;
};

template <class Platform>
class StandardBackend final : public Backend {
 public:
  explicit StandardBackend(Platform platform) : platform_(std::move(platform)) {}
  using Backend::backward_weights;  // the PreparedWeights overload

  std::string name() const override { return platform_.name(); }
  Device device() const override { return platform_.device(); }

  std::optional<std::string> unsupported_reason(const RNNDescriptor& desc,
                                                DType dtype) const override {
    try {
      desc.validate();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    if (!is_floating(dtype)) {
      return std::string("the ") + platform_.name() + " backend computes in f32 or f64, not " +
             to_string(dtype);
    }
    if (is_half(dtype) && !kHalf) return half_refusal(dtype);
    return platform_.unsupported_reason(desc, dtype);
  }

  std::size_t workspace_size(const RNNDescriptor& desc, const SequenceShape& shape, DType dtype,
                             ForwardMode mode) const override {
    check_problem("workspace_size", desc, shape, dtype);
    // network_forward's layout: a scratch per direction where the Ops pair directions.
    using Ops = decltype(std::declval<const Platform&>().template ops<float>(nullptr));
    if (is_half(dtype)) return half_staging_layout(desc, shape, mode, has_time_loop_pair_hook<Ops>::value).bytes;
    return workspace_layout(desc, shape, mode, dtype_size(dtype), has_time_loop_pair_hook<Ops>::value).bytes;
  }

  std::size_t reserve_size(const RNNDescriptor& desc, const SequenceShape& shape,
                           DType dtype) const override {
    check_problem("reserve_size", desc, shape, dtype);
    return reserve_layout(desc, shape.seq_len, shape.batch, compute_size(dtype)).bytes;
  }

  std::shared_ptr<const PreparedWeights> prepare(const RNNWeights& weights) const override {
    check_preparable(*this, weights);
    RNNWeights snapshot = weights.clone();
    RNNWeights widened;
    if constexpr (kHalf) {
      if (is_half(weights.dtype())) {
        [[maybe_unused]] const auto scope = platform_.enter();
        widened = HalfCalls<Platform>(platform_, device()).widened_copy(snapshot);
      }
    }
    return std::make_shared<const Prepared>(std::move(snapshot), name(), std::move(widened));
  }

  // Half weights: preparing saves each call the widening, and packs as f32 does.
  bool prepare_packs(DType dtype) const override {
    if (is_half(dtype)) return kHalf;
    return dtype == DType::f32 ? packs<float>() : dtype == DType::f64 && packs<double>();
  }

  void forward(const RNNWeights& weights, const ForwardArgs& args) override { run_forward(weights, args, nullptr); }
  void forward(const PreparedWeights& weights, const ForwardArgs& args) override {
    const Prepared& p = prepared_of(weights, "forward");
    run_forward(p.weights(), args, &p);
  }
  void backward_data(const RNNWeights& weights, const BackwardDataArgs& args) override {
    run_backward_data(weights, args, nullptr);
  }
  void backward_data(const PreparedWeights& weights, const BackwardDataArgs& args) override {
    const Prepared& p = prepared_of(weights, "backward_data");
    run_backward_data(p.weights(), args, &p);
  }

  void backward_weights(const RNNWeights& weights, const BackwardWeightsArgs& args,
                        RNNWeights& grads) override {
    [[maybe_unused]] const auto scope = platform_.enter();
    check_weights("backward_weights", weights, device());
    check_computes("backward_weights", weights.dtype());
    const RNNDescriptor& d = weights.descriptor();
    const SequenceShape shape =
        sequence_shape_of("backward_weights", "x", args.x, d.input_size, args.batch_first);
    check_backward_weights(weights, args, shape, grads);
    check_training_buffers("backward_weights", d, shape, weights.dtype(), args.workspace,
                           args.reserve, ReserveHeader::backward_data_done, args.stream);
    if (is_half(weights.dtype())) {
      if constexpr (kHalf) {
        HalfCalls<Platform>(platform_, device()).backward_weights(platform_.template ops<float>(args.stream), weights,
                                                                 args, shape, grads);
      }
      return;
    }
    detail::visit_floating(weights.dtype(), [&](auto tag) {
      auto ops = platform_.template ops<decltype(tag)>(args.stream);
      network_backward_weights(ops, weights, args, shape, grads);
    });
  }

 private:
  using Prepared = StandardPrepared<Platform>;
  static constexpr bool kHalf = computes_half<Platform>::value;

  template <class T>
  static bool packs() {
    if constexpr (has_prepared_cache<Platform, T>) {
      return PlatformOps<Platform, T>::prepare_packs();
    } else {
      return false;
    }
  }

  const Prepared& prepared_of(const PreparedWeights& weights, const char* call) const {
    check_prepared_by(*this, weights, call);
    const auto* p = dynamic_cast<const Prepared*>(&weights);
    check_argument(p != nullptr, call, "weights", [&] {
      return "were prepared by another implementation of backend '" + name() + "'; prepare them with this backend";
    });
    return *p;
  }

  // The Ops for T, reading prepared GEMMs from `p` when given and the Ops can.
  template <class T>
  auto ops_for(void* stream, const Prepared* p) const {
    auto ops = platform_.template ops<T>(stream);
    if constexpr (has_prepared_cache<Platform, T>) {
      if (p != nullptr) ops.prepared = p->template cache<T>();
    } else {
      (void)p;
    }
    return ops;
  }

  void run_forward(const RNNWeights& weights, const ForwardArgs& args, const Prepared* prepared) {
    [[maybe_unused]] const auto scope = platform_.enter();
    check_weights("forward", weights, device());
    check_computes("forward", weights.dtype());
    const RNNDescriptor& d = weights.descriptor();
    const SequenceShape shape = sequence_shape_of("forward", "x", args.x, d.input_size, args.batch_first);
    check_forward(weights, args, shape);
    check_buffer("forward", "workspace", args.workspace,
                 workspace_size(d, shape, weights.dtype(), args.mode), device());
    if (args.mode == ForwardMode::training) {
      check_buffer("forward", "reserve", args.reserve, reserve_size(d, shape, weights.dtype()), device());
    }
    if (is_half(weights.dtype())) {
      if constexpr (kHalf) {
        using Ops = PlatformOps<Platform, float>;
        HalfCalls<Platform>(platform_, device())
            .forward(ops_for<float>(args.stream, prepared), weights, prepared != nullptr ? prepared->widened() : nullptr,
                     args, shape, has_time_loop_pair_hook<Ops>::value);
      }
      return;
    }
    detail::visit_floating(weights.dtype(), [&](auto tag) {
      auto ops = ops_for<decltype(tag)>(args.stream, prepared);
      network_forward(ops, weights, args, shape);
    });
  }

  void run_backward_data(const RNNWeights& weights, const BackwardDataArgs& args, const Prepared* prepared) {
    [[maybe_unused]] const auto scope = platform_.enter();
    check_weights("backward_data", weights, device());
    check_computes("backward_data", weights.dtype());
    const RNNDescriptor& d = weights.descriptor();
    const SequenceShape shape =
        sequence_shape_of("backward_data", "dx", args.dx, d.input_size, args.batch_first);
    check_backward_data(weights, args, shape);
    const ReserveHeader h = check_training_buffers("backward_data", d, shape, weights.dtype(), args.workspace,
                                                   args.reserve, ReserveHeader::forward_done, args.stream);
    check_argument(h.lengths_digest == lengths_digest(args.lengths, shape.seq_len, shape.batch), "backward_data",
                   "lengths", "differ from the lengths of the forward that filled the reserve (pass the same)");
    if (is_half(weights.dtype())) {
      if constexpr (kHalf) {
        HalfCalls<Platform>(platform_, device())
            .backward_data(ops_for<float>(args.stream, prepared), weights,
                           prepared != nullptr ? prepared->widened() : nullptr, args, shape);
      }
      return;
    }
    detail::visit_floating(weights.dtype(), [&](auto tag) {
      auto ops = ops_for<decltype(tag)>(args.stream, prepared);
      network_backward_data(ops, weights, args, shape);
    });
  }

  // Why a platform that does not compute half refuses `dtype` (bf16 or f16).
  std::string half_refusal(DType dtype) const {
    return std::string("the ") + platform_.name() + " backend does not compute in " + to_string(dtype) +
           " yet (the cpu backend does); use f32 or f64";
  }

  // A half call on a platform that does not compute half: Error(unsupported) with the reason.
  void check_computes(const char* call, DType dtype) const {
    if (is_half(dtype) && !kHalf) {
      throw Error(ErrorCode::unsupported,
                  std::string(call) + ": 'weights' are " + to_string(dtype) + ": " + half_refusal(dtype));
    }
  }

  void check_problem(const char* call, const RNNDescriptor& desc, const SequenceShape& shape,
                     DType dtype) const {
    desc.validate();
    check_argument(is_floating(dtype), call, "dtype",
                   [&] { return std::string("must be f32, f64, bf16 or f16, got ") + to_string(dtype); });
    check_argument(shape.seq_len > 0, call, "shape.seq_len",
                   [&] { return "must be positive, got " + std::to_string(shape.seq_len); });
    check_argument(shape.batch > 0, call, "shape.batch",
                   [&] { return "must be positive, got " + std::to_string(shape.batch); });
  }

  // Sizes, then the reserve's header: filled by a training forward of this shape, and (for
  // backward_weights) processed by backward_data.
  ReserveHeader check_training_buffers(const char* call, const RNNDescriptor& d, const SequenceShape& shape,
                              DType dtype, ConstTensorView workspace, ConstTensorView reserve,
                              ReserveHeader::Stage stage_needed, void* stream) const {
    check_buffer(call, "workspace", workspace,
                 workspace_size(d, shape, dtype, ForwardMode::training), device());
    check_buffer(call, "reserve", reserve, reserve_size(d, shape, dtype), device());
    const ReserveHeader h = platform_.read_header(
        reserve_layout(d, shape.seq_len, shape.batch, compute_size(dtype)).header.in<ReserveHeader>(reserve.data()),
        stream);
    check_argument(h.magic == ReserveHeader::kMagic && h.stage >= ReserveHeader::forward_done, call,
                   "reserve", "was not filled by a training forward");
    check_argument(h.seq_len == shape.seq_len && h.batch == shape.batch, call, "reserve", [&] {
      return "was filled by a forward with T=" + std::to_string(h.seq_len) + ", B=" + std::to_string(h.batch) +
             ", but this call has T=" + std::to_string(shape.seq_len) + ", B=" + std::to_string(shape.batch);
    });
    check_argument(h.stage >= stage_needed, call, "reserve",
                   "has not been through backward_data; call it before backward_weights");
    return h;
  }

  Platform platform_;
};

}  // namespace gpurnn::engine
