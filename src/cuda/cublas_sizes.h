#pragma once
// cuBLAS takes 32-bit sizes; libgpurnn counts in 64 bits. Every narrowing goes through here so a
// size past INT_MAX is an error naming it, never a wrapped negative size.

#include <climits>
#include <cstdint>
#include <string>

#include "gpurnn/error.h"

namespace gpurnn::cuda {

// `v` as an int; Error(unsupported) from `caller` naming `what` when it is negative or too large.
inline int cublas_int(std::int64_t v, const char* what, const char* caller) {
  if (v < 0 || v > INT_MAX) {
    throw Error(ErrorCode::unsupported, std::string(caller) + ": a product's " + what + " of " + std::to_string(v) +
                                            " exceeds cuBLAS's 32-bit sizes");
  }
  return static_cast<int>(v);
}

}  // namespace gpurnn::cuda
