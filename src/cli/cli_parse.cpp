// Parsers of flag values shared by the subcommands (declared in cli/commands.h).

#include <optional>
#include <string>

#include "cli/commands.h"
#include "gpurnn/error.h"

namespace gpurnn::cli {

DType parse_compute_dtype(const std::string& text, const char* flag) {
  // parse_dtype also knows the integer dtypes of files (i32, i64, u8); a computation runs in
  // none of those nor in a dtype parse_dtype does not know, so both get this message.
  bool floating = false;
  DType dtype = DType::f32;
  try {
    dtype = parse_dtype(text);
    floating = is_floating(dtype);
  } catch (const Error&) {
  }
  if (!floating) throw Error(ErrorCode::invalid_argument, std::string(flag) + " " + text + ": expected f32, f64, bf16 or f16");
  return dtype;
}

DType parse_train_dtype(const std::string& text, const char* flag) {
  std::optional<DType> dtype;
  try {
    dtype = parse_dtype(text);
  } catch (const Error&) {
  }
  if (dtype == DType::f16) {
    throw Error(ErrorCode::invalid_argument,
                std::string(flag) + " " + text +
                    ": training in f16 needs loss scaling (small gradients underflow f16's range), which gpurnn "
                    "train does not have; use " + flag + " bf16 (mixed precision: f32 weights, the RNN in bf16)");
  }
  if (dtype != DType::f32 && dtype != DType::f64 && dtype != DType::bf16) {
    throw Error(ErrorCode::invalid_argument, std::string(flag) + " " + text + ": expected f32, f64 or bf16");
  }
  return *dtype;
}

}  // namespace gpurnn::cli
