#pragma once
// Element types. The RNN computes in f32 and f64, and takes bf16 and f16 tensors by the precision
// rule in the README (products and cell math in f32; half.h has the two 16-bit types); i32/i64
// carry lengths and indices; u8 is raw bytes (workspace and reserve buffers).

#include <cstddef>
#include <cstdint>
#include <string>

#include "gpurnn/half.h"

namespace gpurnn {

enum class DType { f32, f64, i32, i64, u8, bf16, f16 };

std::size_t dtype_size(DType dtype);
const char* to_string(DType dtype);
// Parses "f32", "float32", "float", "f64", "float64", "double", "bf16", "bfloat16", "f16",
// "float16", "half", "i32", "int32", "i64", "int64", "u8", "uint8".
DType parse_dtype(const std::string& text);
// f32, f64, bf16 or f16.
bool is_floating(DType dtype);
// bf16 or f16.
bool is_half(DType dtype);
// The largest relative error of rounding a normal real number to `dtype` (f32 2^-24, f64 2^-53,
// bf16 2^-8, f16 2^-11); Error(invalid_argument) for an integer dtype.
double unit_roundoff(DType dtype);

// The DType of a C++ type: dtype_of<float>() == DType::f32.
template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() { return DType::f32; }
template <>
constexpr DType dtype_of<double>() { return DType::f64; }
template <>
constexpr DType dtype_of<std::int32_t>() { return DType::i32; }
template <>
constexpr DType dtype_of<std::int64_t>() { return DType::i64; }
template <>
constexpr DType dtype_of<std::uint8_t>() { return DType::u8; }
template <>
constexpr DType dtype_of<bfloat16>() { return DType::bf16; }
template <>
constexpr DType dtype_of<float16>() { return DType::f16; }

}  // namespace gpurnn
