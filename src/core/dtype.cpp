#include "gpurnn/dtype.h"

#include "core/quoted.h"
#include "gpurnn/error.h"

namespace gpurnn {

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::i32: return 4;
    case DType::i64: return 8;
    case DType::u8: return 1;
    case DType::bf16: return 2;
    case DType::f16: return 2;
  }
  return 0;
}

const char* to_string(DType dtype) {
  switch (dtype) {
    case DType::f32: return "f32";
    case DType::f64: return "f64";
    case DType::i32: return "i32";
    case DType::i64: return "i64";
    case DType::u8: return "u8";
    case DType::bf16: return "bf16";
    case DType::f16: return "f16";
  }
  return "unknown";
}

DType parse_dtype(const std::string& text) {
  if (text == "f32" || text == "float32" || text == "float") return DType::f32;
  if (text == "f64" || text == "float64" || text == "double") return DType::f64;
  if (text == "i32" || text == "int32") return DType::i32;
  if (text == "i64" || text == "int64") return DType::i64;
  if (text == "u8" || text == "uint8") return DType::u8;
  if (text == "bf16" || text == "bfloat16") return DType::bf16;
  if (text == "f16" || text == "float16" || text == "half") return DType::f16;
  throw Error(ErrorCode::invalid_argument, "dtype " + detail::quoted(text) +
                                               " is unknown; expected one of f32, f64, bf16, f16, i32, i64, u8");
}

bool is_floating(DType dtype) { return dtype == DType::f32 || dtype == DType::f64 || is_half(dtype); }

bool is_half(DType dtype) { return dtype == DType::bf16 || dtype == DType::f16; }

double unit_roundoff(DType dtype) {
  switch (dtype) {
    case DType::f32: return 0x1p-24;
    case DType::f64: return 0x1p-53;
    case DType::bf16: return 0x1p-8;
    case DType::f16: return 0x1p-11;
    default: break;
  }
  throw Error(ErrorCode::invalid_argument,
              std::string("unit_roundoff: dtype ") + to_string(dtype) + " is not a floating-point type");
}

}  // namespace gpurnn
