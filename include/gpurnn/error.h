#pragma once
// The one error type of libgpurnn: a code and a message that names the offending argument.

#include <stdexcept>
#include <string>

namespace gpurnn {

enum class ErrorCode {
  invalid_argument,  // an argument has the wrong shape, dtype, device, value or is missing
  unsupported,       // a valid request this backend or build cannot serve
  out_of_memory,     // an allocation failed
  backend_error,     // a BLAS, CUDA or library call failed
  io_error,          // reading or writing a file failed
  internal,          // a broken invariant inside libgpurnn (a bug: please report it)
};

const char* to_string(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message);
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

// Throws Error(invalid_argument, "<where>: argument '<arg>' <what>") unless `condition` holds.
void check_argument(bool condition, const char* where, const char* arg, const std::string& what);

}  // namespace gpurnn
