#pragma once
// Element types. RNN computation supports f32 and f64 on the CPU; i32/i64 carry lengths and
// indices; u8 is raw bytes (workspace and reserve buffers).

#include <cstddef>
#include <cstdint>
#include <string>

namespace gpurnn {

enum class DType { f32, f64, i32, i64, u8 };

std::size_t dtype_size(DType dtype);
const char* to_string(DType dtype);
// Parses "f32", "float32", "float", "f64", "float64", "double", "i32", "int32", "i64", "int64",
// "u8", "uint8".
DType parse_dtype(const std::string& text);
bool is_floating(DType dtype);

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

}  // namespace gpurnn
