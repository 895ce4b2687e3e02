#include "gpurnn/error.h"

namespace gpurnn {

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::unsupported: return "unsupported";
    case ErrorCode::out_of_memory: return "out_of_memory";
    case ErrorCode::backend_error: return "backend_error";
    case ErrorCode::io_error: return "io_error";
    case ErrorCode::internal: return "internal";
  }
  return "unknown";
}

Error::Error(ErrorCode code, const std::string& message)
    : std::runtime_error(message), code_(code) {}

void check_argument(bool condition, const char* where, const char* arg, const std::string& what) {
  if (!condition) {
    throw Error(ErrorCode::invalid_argument,
                std::string(where) + ": argument '" + arg + "' " + what);
  }
}

}  // namespace gpurnn
