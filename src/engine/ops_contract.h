#pragma once
// The Ops contract, written once as code: what the time loops (layer_loop.h, network_loop.h)
// call on a backend's Ops, checked by `static_assert(check_ops_contract<Ops>())` at each network
// entry point, with one message per missing operation; is_rnn_ops_v is the same test as a value
// (for tests that show an incomplete Ops is refused). CpuOps (src/cpu) and
// CudaOps (src/cuda) both satisfy it; a new platform's Ops is checked the same way.
//
// The optional hooks (prepare_fixed_gemm / run_fixed_gemm, gemm_bias_rows, run_time_loop,
// run_time_loop_pair) are detected where they are used, in layer_loop.h; an Ops that keeps
// prepared GEMMs for Backend::prepare declares a PreparedCache (prepared_gemms.h), detected by
// StandardBackend.

#include <cstdint>
#include <type_traits>
#include <utility>

#include "engine/buffer_layout.h"
#include "engine/step_ops.h"

namespace gpurnn::engine {
namespace ops_contract {

template <class, template <class> class, class = void>
struct detected : std::false_type {};
template <class Ops, template <class> class Op>
struct detected<Ops, Op, std::void_t<Op<Ops>>> : std::true_type {};

template <class Ops>
using T = typename Ops::value_type;
template <class Ops>
Ops& ops();
template <class Ops>
T<Ops>* mut();
template <class Ops>
const T<Ops>* in();
using I = std::int64_t;

// Each operation of the contract, with the argument types the loops pass.
template <class Ops>
using gemm = decltype(ops<Ops>().gemm(Trans::no, Trans::no, I(), I(), I(), T<Ops>(), in<Ops>(), I(), in<Ops>(),
                                      I(), T<Ops>(), mut<Ops>(), I()));
template <class Ops>
using add_bias_rows = decltype(ops<Ops>().add_bias_rows(mut<Ops>(), I(), I(), I(), in<Ops>()));
template <class Ops>
using copy = decltype(ops<Ops>().copy(mut<Ops>(), in<Ops>(), I()));
template <class Ops>
using copy_or_zero = decltype(ops<Ops>().copy_or_zero(mut<Ops>(), in<Ops>(), I()));
template <class Ops>
using transpose_leading = decltype(ops<Ops>().transpose_leading(in<Ops>(), mut<Ops>(), I(), I(), I()));
template <class Ops>
using apply_dropout = decltype(ops<Ops>().apply_dropout(mut<Ops>(), I(), std::uint64_t(), int(), double()));
template <class Ops>
using column_sums = decltype(ops<Ops>().column_sums(in<Ops>(), I(), I(), I(), mut<Ops>(), bool()));
template <class Ops>
using forward_step = decltype(ops<Ops>().forward_step(std::declval<const ForwardStep<T<Ops>>&>()));
template <class Ops>
using finish_forward_step = decltype(ops<Ops>().finish_forward_step(std::declval<const StepOutput<T<Ops>>&>()));
template <class Ops>
using output_gradient = decltype(ops<Ops>().output_gradient(std::declval<const OutputGradient<T<Ops>>&>()));
template <class Ops>
using backward_step = decltype(ops<Ops>().backward_step(std::declval<const BackwardStep<T<Ops>>&>()));
template <class Ops>
using stage_lengths = std::enable_if_t<std::is_convertible_v<
    decltype(ops<Ops>().stage_lengths(std::declval<const std::int32_t*>(), I(), std::declval<std::int32_t*>())),
    const std::int32_t*>>;
template <class Ops>
using write_header = decltype(ops<Ops>().write_header(std::declval<ReserveHeader*>(), std::declval<const ReserveHeader&>()));
template <class Ops>
using read_header = std::enable_if_t<std::is_same_v<
    decltype(ops<Ops>().read_header(std::declval<const ReserveHeader*>())), ReserveHeader>>;

template <class Ops>
using value_type = std::enable_if_t<std::is_floating_point_v<typename Ops::value_type>>;

}  // namespace ops_contract

// Whether Ops offers every operation of the contract.
template <class Ops, class = void>
struct is_rnn_ops : std::false_type {};
template <class Ops>
struct is_rnn_ops<Ops, ops_contract::value_type<Ops>>
    : std::bool_constant<
          ops_contract::detected<Ops, ops_contract::gemm>::value &&
          ops_contract::detected<Ops, ops_contract::add_bias_rows>::value &&
          ops_contract::detected<Ops, ops_contract::copy>::value &&
          ops_contract::detected<Ops, ops_contract::copy_or_zero>::value &&
          ops_contract::detected<Ops, ops_contract::transpose_leading>::value &&
          ops_contract::detected<Ops, ops_contract::apply_dropout>::value &&
          ops_contract::detected<Ops, ops_contract::column_sums>::value &&
          ops_contract::detected<Ops, ops_contract::forward_step>::value &&
          ops_contract::detected<Ops, ops_contract::finish_forward_step>::value &&
          ops_contract::detected<Ops, ops_contract::output_gradient>::value &&
          ops_contract::detected<Ops, ops_contract::backward_step>::value &&
          ops_contract::detected<Ops, ops_contract::stage_lengths>::value &&
          ops_contract::detected<Ops, ops_contract::write_header>::value &&
          ops_contract::detected<Ops, ops_contract::read_header>::value> {};
template <class Ops>
inline constexpr bool is_rnn_ops_v = is_rnn_ops<Ops>::value;

// The same check, one message per missing operation: call it where an Ops enters the engine.
template <class Ops>
constexpr bool check_ops_contract() {
  using namespace ops_contract;
  static_assert(detected<Ops, value_type>::value, "Ops needs `using value_type = float or double`");
  static_assert(detected<Ops, gemm>::value, "Ops needs gemm(Trans, Trans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)");
  static_assert(detected<Ops, add_bias_rows>::value, "Ops needs add_bias_rows(rows, count, n, ld, bias)");
  static_assert(detected<Ops, copy>::value, "Ops needs copy(dst, src, n)");
  static_assert(detected<Ops, copy_or_zero>::value, "Ops needs copy_or_zero(dst, src, n)");
  static_assert(detected<Ops, transpose_leading>::value, "Ops needs transpose_leading(src, dst, a, b, f)");
  static_assert(detected<Ops, apply_dropout>::value, "Ops needs apply_dropout(values, count, seed, layer, p)");
  static_assert(detected<Ops, column_sums>::value, "Ops needs column_sums(rows, count, n, ld, out, accumulate)");
  static_assert(detected<Ops, forward_step>::value, "Ops needs forward_step(const ForwardStep<T>&)");
  static_assert(detected<Ops, finish_forward_step>::value, "Ops needs finish_forward_step(const StepOutput<T>&)");
  static_assert(detected<Ops, output_gradient>::value, "Ops needs output_gradient(const OutputGradient<T>&)");
  static_assert(detected<Ops, backward_step>::value, "Ops needs backward_step(const BackwardStep<T>&)");
  static_assert(detected<Ops, stage_lengths>::value,
                "Ops needs stage_lengths(host_lengths, batch, slot) -> const int32_t*");
  static_assert(detected<Ops, write_header>::value, "Ops needs write_header(ReserveHeader*, const ReserveHeader&)");
  static_assert(detected<Ops, read_header>::value, "Ops needs read_header(const ReserveHeader*) -> ReserveHeader");
  return true;
}

}  // namespace gpurnn::engine
