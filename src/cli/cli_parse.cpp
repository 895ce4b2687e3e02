// Parsers of flag values shared by the subcommands (declared in cli/commands.h).

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

}  // namespace gpurnn::cli
