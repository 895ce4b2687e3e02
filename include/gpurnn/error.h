#pragma once
// The one error type of libgpurnn: a code and a message that names the offending argument.

#include <stdexcept>
#include <string>
#include <type_traits>

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
// The same with the message made only when the check fails: `what` is a callable returning the
// text. For the checks on every call's path, whose messages format shapes and numbers: a call of
// one step of one sequence spent more time building messages nobody read than multiplying.
template <class MakeWhat, std::enable_if_t<std::is_invocable_r_v<std::string, MakeWhat&>, int> = 0>
void check_argument(bool condition, const char* where, const char* arg, MakeWhat&& what) {
  if (!condition) check_argument(false, where, arg, std::string(what()));
}

}  // namespace gpurnn
