#include "platform/train_op_checks.h"

#include "core/alias_check.h"

#include <utility>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace gpurnn::train::checks {
namespace {

std::string describe(ConstTensorView v) {
  return to_string(v.shape()) + " " + to_string(v.dtype()) + " on " + to_string(v.device());
}

// "[?, 5]" for the wanted dims (-1: any).
std::string wanted_dims(std::initializer_list<std::int64_t> want) {
  std::string s = "[";
  for (auto it = want.begin(); it != want.end(); ++it) {
    if (it != want.begin()) s += ", ";
    s += *it < 0 ? "?" : std::to_string(*it);
  }
  return s + "]";
}

// `v` present, of `dtype` on `device`, with as many dims as `want` and each dim equal to its
// entry in `want` (-1: any). `pattern` names the dims for the message ("[out, in]").
void check_tensor(const char* call, const char* arg, ConstTensorView v,
                  std::initializer_list<std::int64_t> want, const char* pattern, DType dtype,
                  Device device) {
  const std::string expected = std::string(pattern) + " = " + wanted_dims(want) + " " +
                               to_string(dtype) + " on " + to_string(device);
  check_argument(!v.empty(), call, arg, [&] { return "is required but empty (null data), expected " + expected; });
  bool ok = v.dtype() == dtype && v.device() == device &&
            v.rank() == static_cast<int>(want.size());
  int i = 0;
  for (std::int64_t d : want) {
    ok = ok && (d < 0 || v.dim(i) == d);
    ++i;
  }
  check_argument(ok, call, arg, [&] { return "is " + describe(v) + ", expected " + expected; });
}

void check_optional(const char* call, const char* arg, ConstTensorView v,
                    std::initializer_list<std::int64_t> want, const char* pattern, DType dtype,
                    Device device) {
  if (!v.empty()) check_tensor(call, arg, v, want, pattern, dtype, device);
}

// The call's floating dtype, read from its first tensor `v` (present, f32 or f64, on device).
DType floating_of(const char* call, const char* arg, ConstTensorView v, Device device) {
  check_argument(!v.empty(), call, arg, "is required but empty (null data)");
  check_argument(v.dtype() == DType::f32 || v.dtype() == DType::f64, call, arg,
                 [&] { return "is " + describe(v) + ", expected dtype f32 or f64"; });
  check_argument(v.device() == device, call, arg,
                 [&] { return "is " + describe(v) + ", expected a tensor on " + to_string(device); });
  return v.dtype();
}

// Same shape, dtype and device as `like`.
void check_like(const char* call, const char* arg, ConstTensorView v, const char* like_name,
                ConstTensorView like) {
  check_argument(!v.empty(), call, arg, [&] {
    return "is required but empty (null data), expected " + describe(like) + " like '" + like_name + "'";
  });
  check_argument(v.shape() == like.shape() && v.dtype() == like.dtype() && v.device() == like.device(), call, arg,
                 [&] { return "is " + describe(v) + ", expected " + describe(like) + " like '" + like_name + "'"; });
}

void check_range(const char* call, const char* arg, double value, bool ok, const char* expected) {
  check_argument(ok, call, arg, [&] { return "is " + std::to_string(value) + ", expected " + expected; });
}
void check_finite(const char* call, const char* arg, double value) {
  check_range(call, arg, value, std::isfinite(value), "a finite value");
}
void check_unit_interval(const char* call, const char* arg, double value) {
  check_range(call, arg, value, value >= 0.0 && value < 1.0, "a value in [0, 1)");
}
void check_non_negative(const char* call, const char* arg, double value) {
  check_range(call, arg, value, value >= 0.0 && std::isfinite(value), "a finite value >= 0");
}

// A tensor of rank >= 1 (the elementwise and softmax calls take any leading dims).
void check_rank_at_least_one(const char* call, const char* arg, ConstTensorView v) {
  check_argument(v.rank() >= 1, call, arg, [&] { return "is " + describe(v) + ", expected a tensor of rank >= 1"; });
}

// An output `out` shaped like `in` that may be `in` itself (in place) but may not overlap it
// otherwise, nor overlap any of `others` (read-only).
void check_in_place_allowed(const char* call, const char* in_name, ConstTensorView in,
                            const char* out_name, ConstTensorView out, const char* other_name = nullptr,
                            ConstTensorView other = {}) {
  if (out.data() == in.data()) {
    if (other_name) detail::check_no_alias(call, {{other_name, other, false}, {out_name, out, true}});
    return;
  }
  if (other_name) {
    detail::check_no_alias(call, {{in_name, in, false}, {other_name, other, false}, {out_name, out, true}});
  } else {
    detail::check_no_alias(call, {{in_name, in, false}, {out_name, out, true}});
  }
}

}  // namespace

DType linear_forward(Device device, ConstTensorView x, ConstTensorView w, ConstTensorView b,
                     ConstTensorView y) {
  const char* call = "TrainOps::linear_forward";
  const DType dt = floating_of(call, "x", x, device);
  check_tensor(call, "x", x, {-1, -1}, "[N, in]", dt, device);
  const std::int64_t n = x.dim(0), in = x.dim(1);
  check_tensor(call, "w", w, {-1, in}, "[out, in]", dt, device);
  const std::int64_t out = w.dim(0);
  check_optional(call, "b", b, {out}, "[out]", dt, device);
  check_tensor(call, "y", y, {n, out}, "[N, out]", dt, device);
  detail::check_no_alias(call, {{"x", x, false}, {"w", w, false}, {"b", b, false}, {"y", y, true}});
  return dt;
}

DType linear_backward(Device device, ConstTensorView x, ConstTensorView w, ConstTensorView dy,
                      ConstTensorView dx, ConstTensorView dw, ConstTensorView db) {
  const char* call = "TrainOps::linear_backward";
  const DType dt = floating_of(call, "x", x, device);
  check_tensor(call, "x", x, {-1, -1}, "[N, in]", dt, device);
  const std::int64_t n = x.dim(0), in = x.dim(1);
  check_tensor(call, "w", w, {-1, in}, "[out, in]", dt, device);
  const std::int64_t out = w.dim(0);
  check_tensor(call, "dy", dy, {n, out}, "[N, out]", dt, device);
  check_optional(call, "dx", dx, {n, in}, "[N, in]", dt, device);
  check_tensor(call, "dw", dw, {out, in}, "[out, in]", dt, device);
  check_optional(call, "db", db, {out}, "[out]", dt, device);
  detail::check_no_alias(call, {{"x", x, false}, {"w", w, false}, {"dy", dy, false}, {"dx", dx, true},
                          {"dw", dw, true}, {"db", db, true}});
  return dt;
}

DType embedding_forward(Device device, ConstTensorView table, ConstTensorView ids, ConstTensorView y) {
  const char* call = "TrainOps::embedding_forward";
  const DType dt = floating_of(call, "table", table, device);
  check_tensor(call, "table", table, {-1, -1}, "[V, E]", dt, device);
  check_tensor(call, "ids", ids, {-1}, "[N]", DType::i32, device);
  check_tensor(call, "y", y, {ids.dim(0), table.dim(1)}, "[N, E]", dt, device);
  detail::check_no_alias(call, {{"table", table, false}, {"ids", ids, false}, {"y", y, true}});
  return dt;
}

DType embedding_backward(Device device, ConstTensorView ids, ConstTensorView dy, ConstTensorView dtable) {
  const char* call = "TrainOps::embedding_backward";
  const DType dt = floating_of(call, "dtable", dtable, device);
  check_tensor(call, "dtable", dtable, {-1, -1}, "[V, E]", dt, device);
  check_tensor(call, "ids", ids, {-1}, "[N]", DType::i32, device);
  check_tensor(call, "dy", dy, {ids.dim(0), dtable.dim(1)}, "[N, E]", dt, device);
  detail::check_no_alias(call, {{"ids", ids, false}, {"dy", dy, false}, {"dtable", dtable, true}});
  return dt;
}

DType dropout(const char* call, Device device, const char* in_name, ConstTensorView in, double p,
              const char* out_name, ConstTensorView out) {
  const DType dt = floating_of(call, in_name, in, device);
  check_unit_interval(call, "p", p);
  check_like(call, out_name, out, in_name, in);
  if (out.data() != in.data()) detail::check_no_alias(call, {{in_name, in, false}, {out_name, out, true}});
  return dt;
}

DType softmax_cross_entropy(Device device, ConstTensorView logits, ConstTensorView targets,
                            double grad_scale, ConstTensorView dlogits) {
  const char* call = "TrainOps::softmax_cross_entropy";
  const DType dt = floating_of(call, "logits", logits, device);
  check_tensor(call, "logits", logits, {-1, -1}, "[N, V]", dt, device);
  check_tensor(call, "targets", targets, {logits.dim(0)}, "[N]", DType::i32, device);
  check_finite(call, "grad_scale", grad_scale);
  check_optional(call, "dlogits", dlogits, {logits.dim(0), logits.dim(1)}, "[N, V]", dt, device);
  detail::check_no_alias(call, {{"logits", logits, false}, {"targets", targets, false},
                          {"dlogits", dlogits, true}});
  return dt;
}

DType mean_squared_error(Device device, ConstTensorView pred, ConstTensorView target,
                         ConstTensorView mask, double grad_scale, ConstTensorView dpred) {
  const char* call = "TrainOps::mean_squared_error";
  const DType dt = floating_of(call, "pred", pred, device);
  check_tensor(call, "pred", pred, {-1, -1}, "[N, D]", dt, device);
  check_like(call, "target", target, "pred", pred);
  check_optional(call, "mask", mask, {pred.dim(0)}, "[N]", dt, device);
  check_finite(call, "grad_scale", grad_scale);
  if (!dpred.empty()) check_like(call, "dpred", dpred, "pred", pred);
  detail::check_no_alias(call, {{"pred", pred, false}, {"target", target, false}, {"mask", mask, false},
                          {"dpred", dpred, true}});
  return dt;
}

DType attention_scores(Device device, ConstTensorView query, ConstTensorView keys, ConstTensorView scores) {
  const char* call = "TrainOps::attention_scores";
  const DType dt = floating_of(call, "query", query, device);
  check_tensor(call, "query", query, {-1, -1, -1}, "[T, B, D]", dt, device);
  const std::int64_t t = query.dim(0), b = query.dim(1), d = query.dim(2);
  check_tensor(call, "keys", keys, {-1, b, d}, "[S, B, D]", dt, device);
  check_tensor(call, "scores", scores, {t, b, keys.dim(0)}, "[T, B, S]", dt, device);
  detail::check_no_alias(call, {{"query", query, false}, {"keys", keys, false}, {"scores", scores, true}});
  return dt;
}

DType attention_scores_backward(Device device, ConstTensorView query, ConstTensorView keys,
                                ConstTensorView dscores, ConstTensorView dquery, ConstTensorView dkeys) {
  const char* call = "TrainOps::attention_scores_backward";
  const DType dt = floating_of(call, "query", query, device);
  check_tensor(call, "query", query, {-1, -1, -1}, "[T, B, D]", dt, device);
  const std::int64_t t = query.dim(0), b = query.dim(1), d = query.dim(2);
  check_tensor(call, "keys", keys, {-1, b, d}, "[S, B, D]", dt, device);
  const std::int64_t s = keys.dim(0);
  check_tensor(call, "dscores", dscores, {t, b, s}, "[T, B, S]", dt, device);
  check_optional(call, "dquery", dquery, {t, b, d}, "[T, B, D]", dt, device);
  check_optional(call, "dkeys", dkeys, {s, b, d}, "[S, B, D]", dt, device);
  detail::check_no_alias(call, {{"query", query, false}, {"keys", keys, false}, {"dscores", dscores, false},
                                {"dquery", dquery, true}, {"dkeys", dkeys, true}});
  return dt;
}

DType attention_context(Device device, ConstTensorView weights, ConstTensorView values,
                        ConstTensorView context) {
  const char* call = "TrainOps::attention_context";
  const DType dt = floating_of(call, "weights", weights, device);
  check_tensor(call, "weights", weights, {-1, -1, -1}, "[T, B, S]", dt, device);
  const std::int64_t t = weights.dim(0), b = weights.dim(1), s = weights.dim(2);
  check_tensor(call, "values", values, {s, b, -1}, "[S, B, D]", dt, device);
  check_tensor(call, "context", context, {t, b, values.dim(2)}, "[T, B, D]", dt, device);
  detail::check_no_alias(call, {{"weights", weights, false}, {"values", values, false},
                                {"context", context, true}});
  return dt;
}

DType attention_context_backward(Device device, ConstTensorView weights, ConstTensorView values,
                                 ConstTensorView dcontext, ConstTensorView dweights, ConstTensorView dvalues) {
  const char* call = "TrainOps::attention_context_backward";
  const DType dt = floating_of(call, "weights", weights, device);
  check_tensor(call, "weights", weights, {-1, -1, -1}, "[T, B, S]", dt, device);
  const std::int64_t t = weights.dim(0), b = weights.dim(1), s = weights.dim(2);
  check_tensor(call, "values", values, {s, b, -1}, "[S, B, D]", dt, device);
  const std::int64_t d = values.dim(2);
  check_tensor(call, "dcontext", dcontext, {t, b, d}, "[T, B, D]", dt, device);
  check_optional(call, "dweights", dweights, {t, b, s}, "[T, B, S]", dt, device);
  check_optional(call, "dvalues", dvalues, {s, b, d}, "[S, B, D]", dt, device);
  detail::check_no_alias(call, {{"weights", weights, false}, {"values", values, false},
                                {"dcontext", dcontext, false}, {"dweights", dweights, true},
                                {"dvalues", dvalues, true}});
  return dt;
}

namespace {
// The shared inputs of additive_scores and its backward: query [T, B, A], keys [S, B, A], v [A].
DType additive_inputs(const char* call, Device device, ConstTensorView query, ConstTensorView keys,
                      ConstTensorView v) {
  const DType dt = floating_of(call, "query", query, device);
  check_tensor(call, "query", query, {-1, -1, -1}, "[T, B, A]", dt, device);
  check_tensor(call, "keys", keys, {-1, query.dim(1), query.dim(2)}, "[S, B, A]", dt, device);
  check_tensor(call, "v", v, {query.dim(2)}, "[A]", dt, device);
  return dt;
}
}  // namespace

DType additive_scores(Device device, ConstTensorView query, ConstTensorView keys, ConstTensorView v,
                      ConstTensorView scores) {
  const char* call = "TrainOps::additive_scores";
  const DType dt = additive_inputs(call, device, query, keys, v);
  check_tensor(call, "scores", scores, {query.dim(0), query.dim(1), keys.dim(0)}, "[T, B, S]", dt, device);
  detail::check_no_alias(call, {{"query", query, false}, {"keys", keys, false}, {"v", v, false},
                                {"scores", scores, true}});
  return dt;
}

DType additive_scores_backward(Device device, ConstTensorView query, ConstTensorView keys, ConstTensorView v,
                               ConstTensorView dscores, ConstTensorView dquery, ConstTensorView dkeys,
                               ConstTensorView dv) {
  const char* call = "TrainOps::additive_scores_backward";
  const DType dt = additive_inputs(call, device, query, keys, v);
  const std::int64_t t = query.dim(0), b = query.dim(1), a = query.dim(2), s = keys.dim(0);
  check_tensor(call, "dscores", dscores, {t, b, s}, "[T, B, S]", dt, device);
  check_optional(call, "dquery", dquery, {t, b, a}, "[T, B, A]", dt, device);
  check_optional(call, "dkeys", dkeys, {s, b, a}, "[S, B, A]", dt, device);
  check_optional(call, "dv", dv, {a}, "[A]", dt, device);
  detail::check_no_alias(call, {{"query", query, false}, {"keys", keys, false}, {"v", v, false},
                                {"dscores", dscores, false}, {"dquery", dquery, true},
                                {"dkeys", dkeys, true}, {"dv", dv, true}});
  return dt;
}

DType mask_scores(Device device, ConstTensorView scores, ConstTensorView lengths, ConstTensorView excluded) {
  const char* call = "TrainOps::mask_scores";
  const DType dt = floating_of(call, "scores", scores, device);
  check_tensor(call, "scores", scores, {-1, -1, -1}, "[T, B, S]", dt, device);
  const std::int64_t t = scores.dim(0), b = scores.dim(1), s = scores.dim(2);
  check_optional(call, "lengths", lengths, {b}, "[B]", DType::i32, device);
  check_optional(call, "excluded", excluded, {t, b, s}, "[T, B, S]", DType::u8, device);
  detail::check_no_alias(call, {{"lengths", lengths, false}, {"excluded", excluded, false},
                                {"scores", scores, true}});
  return dt;
}

DType softmax(Device device, ConstTensorView x, ConstTensorView y) {
  const char* call = "TrainOps::softmax";
  const DType dt = floating_of(call, "x", x, device);
  check_rank_at_least_one(call, "x", x);
  check_like(call, "y", y, "x", x);
  check_in_place_allowed(call, "x", x, "y", y);
  return dt;
}

DType softmax_backward(Device device, ConstTensorView y, ConstTensorView dy, ConstTensorView dx) {
  const char* call = "TrainOps::softmax_backward";
  const DType dt = floating_of(call, "y", y, device);
  check_rank_at_least_one(call, "y", y);
  check_like(call, "dy", dy, "y", y);
  check_like(call, "dx", dx, "y", y);
  check_in_place_allowed(call, "dy", dy, "dx", dx, "y", y);
  return dt;
}

DType tanh_forward(Device device, ConstTensorView x, ConstTensorView y) {
  const char* call = "TrainOps::tanh_forward";
  const DType dt = floating_of(call, "x", x, device);
  check_like(call, "y", y, "x", x);
  check_in_place_allowed(call, "x", x, "y", y);
  return dt;
}

DType tanh_backward(Device device, ConstTensorView y, ConstTensorView dy, ConstTensorView dx) {
  const char* call = "TrainOps::tanh_backward";
  const DType dt = floating_of(call, "y", y, device);
  check_like(call, "dy", dy, "y", y);
  check_like(call, "dx", dx, "y", y);
  check_in_place_allowed(call, "dy", dy, "dx", dx, "y", y);
  return dt;
}

DType add_scaled(Device device, ConstTensorView x, double alpha, ConstTensorView y) {
  const char* call = "TrainOps::add_scaled";
  const DType dt = floating_of(call, "x", x, device);
  check_finite(call, "alpha", alpha);
  check_like(call, "y", y, "x", x);
  detail::check_no_alias(call, {{"x", x, false}, {"y", y, true}});
  return dt;
}

DType sum_squares(Device device, ConstTensorView x) {
  return floating_of("TrainOps::sum_squares", "x", x, device);
}

void copy(Device device, ConstTensorView src, ConstTensorView dst) {
  const char* call = "TrainOps::copy";
  for (const auto& [name, t] : {std::pair<const char*, ConstTensorView>{"src", src}, {"dst", dst}}) {
    check_argument(t.numel() == 0 || !t.empty(), call, name, "is an empty view");
    const Device on = t.device();  // a lambda cannot capture a structured binding (C++17)
    check_argument(on.is_cpu() || on == device, call, name, [&] {
      return "is on " + to_string(on) + ", expected " + to_string(device) + " or the host";
    });
  }
  check_argument(src.dtype() == dst.dtype() && src.numel() == dst.numel(), call, "dst", [&] {
    return "is " + std::to_string(dst.numel()) + " " + to_string(dst.dtype()) + ", expected " +
           std::to_string(src.numel()) + " " + to_string(src.dtype()) + " like src";
  });
  const auto* s = static_cast<const char*>(src.data());
  const auto* d = static_cast<const char*>(dst.data());
  check_argument(src.device() != dst.device() || s == d || d + dst.bytes() <= s || s + src.bytes() <= d, call,
                 "dst", "overlaps src");
}

DType scale(Device device, ConstTensorView x, double factor) {
  const DType dt = floating_of("TrainOps::scale", "x", x, device);
  check_finite("TrainOps::scale", "factor", factor);
  return dt;
}

DType sgd_update(Device device, ConstTensorView param, ConstTensorView grad, ConstTensorView momentum,
                 const SgdHyper& hyper) {
  const char* call = "TrainOps::sgd_update";
  const DType dt = floating_of(call, "param", param, device);
  check_like(call, "grad", grad, "param", param);
  check_non_negative(call, "hyper.lr", hyper.lr);
  check_non_negative(call, "hyper.momentum", hyper.momentum);
  check_non_negative(call, "hyper.weight_decay", hyper.weight_decay);
  check_argument(!hyper.nesterov || hyper.momentum > 0.0, call, "hyper.nesterov",
                 "is true with momentum 0, expected a momentum > 0 for Nesterov momentum");
  if (hyper.momentum != 0.0 || !momentum.empty()) check_like(call, "momentum", momentum, "param", param);
  detail::check_no_alias(call, {{"param", param, true}, {"grad", grad, false}, {"momentum", momentum, true}});
  return dt;
}

DType adam_update(Device device, ConstTensorView param, ConstTensorView grad, ConstTensorView m,
                  ConstTensorView v, const AdamHyper& hyper) {
  const char* call = "TrainOps::adam_update";
  const DType dt = floating_of(call, "param", param, device);
  check_like(call, "grad", grad, "param", param);
  check_like(call, "m", m, "param", param);
  check_like(call, "v", v, "param", param);
  check_non_negative(call, "hyper.lr", hyper.lr);
  check_unit_interval(call, "hyper.beta1", hyper.beta1);
  check_unit_interval(call, "hyper.beta2", hyper.beta2);
  check_range(call, "hyper.eps", hyper.eps, hyper.eps > 0.0 && std::isfinite(hyper.eps),
              "a finite value > 0");
  check_non_negative(call, "hyper.weight_decay", hyper.weight_decay);
  check_argument(hyper.step >= 1, call, "hyper.step",
                 [&] { return "is " + std::to_string(hyper.step) + ", expected a 1-based step count >= 1"; });
  detail::check_no_alias(call, {{"param", param, true}, {"grad", grad, false}, {"m", m, true},
                          {"v", v, true}});
  return dt;
}

}  // namespace gpurnn::train::checks
