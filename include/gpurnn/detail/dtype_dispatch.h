#pragma once
// Calls f with a value of the C++ type of a DType, so one generic lambda serves every dtype.

#include <cstdint>

#include "gpurnn/dtype.h"
#include "gpurnn/error.h"

namespace gpurnn::detail {

template <class F>
decltype(auto) visit_dtype(DType dtype, F&& f) {
  switch (dtype) {
    case DType::f32: return f(float{});
    case DType::f64: return f(double{});
    case DType::i32: return f(std::int32_t{});
    case DType::i64: return f(std::int64_t{});
    case DType::u8: return f(std::uint8_t{});
    case DType::bf16: return f(bfloat16{});
    case DType::f16: return f(float16{});
  }
  throw Error(ErrorCode::internal, "visit_dtype: not a DType value");
}

// The same, restricted to the floating types the RNN computes in (a half dtype is stored in half
// and computed in f32: the caller converts; see the README's precision rule).
template <class F>
decltype(auto) visit_floating(DType dtype, F&& f) {
  if (dtype == DType::f32) return f(float{});
  if (dtype != DType::f64) {
    throw Error(ErrorCode::unsupported,
                std::string("dtype ") + to_string(dtype) + " is not a type the RNN computes in; use f32 or f64");
  }
  return f(double{});
}

}  // namespace gpurnn::detail
