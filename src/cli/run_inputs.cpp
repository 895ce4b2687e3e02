#include "cli/run_inputs.h"

#include <cstdint>

#include "gpurnn/error.h"
#include "gpurnn/io/npy.h"

namespace gpurnn::cli {

Tensor read_floating_npy(const std::string& path, const char* flag, DType dtype) {
  const Tensor t = io::read_npy(path);
  if (!is_floating(t.dtype())) {
    throw Error(ErrorCode::invalid_argument, std::string(flag) + " " + path + ": holds " +
                                                 to_string(t.dtype()) +
                                                 " values, expected float16, float32 or float64");
  }
  return t.dtype() == dtype ? t : t.to(dtype);
}

Tensor read_lengths_npy(const std::string& path, const char* flag) {
  const Tensor t = io::read_npy(path);
  if (t.dtype() != DType::i32 && t.dtype() != DType::i64) {
    throw Error(ErrorCode::invalid_argument, std::string(flag) + " " + path + ": holds " + to_string(t.dtype()) +
                                                 " values, expected int32 or int64");
  }
  if (t.dtype() == DType::i64) {
    for (std::int64_t k = 0; k < t.numel(); ++k) {
      const std::int64_t v = t.data_as<std::int64_t>()[k];
      if (v < 0 || v > INT32_MAX) {
        throw Error(ErrorCode::invalid_argument, std::string(flag) + " " + path + ": value " + std::to_string(v) +
                                                     " at index " + std::to_string(k) + " is out of range");
      }
    }
  }
  return t.to(DType::i32);
}

}  // namespace gpurnn::cli
