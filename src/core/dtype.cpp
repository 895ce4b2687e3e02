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
  }
  return "unknown";
}

DType parse_dtype(const std::string& text) {
  if (text == "f32" || text == "float32" || text == "float") return DType::f32;
  if (text == "f64" || text == "float64" || text == "double") return DType::f64;
  if (text == "i32" || text == "int32") return DType::i32;
  if (text == "i64" || text == "int64") return DType::i64;
  if (text == "u8" || text == "uint8") return DType::u8;
  throw Error(ErrorCode::invalid_argument,
              "dtype " + detail::quoted(text) + " is unknown; expected one of f32, f64, i32, i64, u8");
}

bool is_floating(DType dtype) { return dtype == DType::f32 || dtype == DType::f64; }

}  // namespace gpurnn
