#pragma once
// The safetensors format (as written by the `safetensors` Python package and read by PyTorch
// users): a little-endian u64 header length N, N bytes of JSON
//   {"__metadata__": {"key": "value", ...},
//    "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
// then the data section; offsets are relative to its start.
//
// The reader memory-maps the file and checks every rule before handing anything out: header
// size cap, valid JSON of the right shape, known dtypes, byte length = elements × item size,
// offsets inside the data section, tensors covering it with no overlap and no hole. A broken
// file gives Error(io_error) naming the file and the tensor or field, never an over-read.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gpurnn/tensor.h"

namespace gpurnn::io {

// Header lengths above this are refused (the Python package uses the same 100 MB cap).
constexpr std::uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;

struct SafetensorsRecord {
  std::string name;
  std::string dtype;    // as stored: "F16", "BF16", "F32", "F64", "I32", "I64", "U8"
  Shape shape;
  std::size_t begin;    // byte offsets into the data section
  std::size_t end;
};

class SafetensorsReader {
 public:
  // Maps and validates `path`. Error(io_error) when the file cannot be opened or is malformed.
  explicit SafetensorsReader(const std::string& path);
  // Validates an in-memory image of a file (copied); `origin` names it in errors.
  static SafetensorsReader from_memory(const void* data, std::size_t size,
                                       const std::string& origin = "<memory>");

  const std::string& origin() const;
  const std::map<std::string, std::string>& metadata() const;
  // Every tensor, in data-offset order.
  const std::vector<SafetensorsRecord>& records() const;
  bool contains(const std::string& name) const;
  // Error(invalid_argument) naming `name` when the file has no such tensor.
  const SafetensorsRecord& record(const std::string& name) const;

  // A CPU copy of the stored bytes, in the stored dtype: F16 -> f16, BF16 -> bf16, F32 -> f32,
  // F64 -> f64, I32 -> i32, I64 -> i64, U8 -> u8 (a half tensor stays half: nothing is widened).
  // The file stays mapped: Error(io_error) naming it when it shrank or changed since it was opened.
  Tensor read(const std::string& name) const;
  // A CPU copy converted to `dtype`, floating to floating (f16, bf16, f32, f64 in any direction:
  // half to f32/f64 is exact, to bf16/f16 rounds to nearest even as gpurnn/half.h says) or
  // integer to integer; the stored dtype itself is the stored bytes, as read() gives them.
  // Error(invalid_argument) naming the tensor for floating <-> integer.
  Tensor read_as(const std::string& name, DType dtype) const;

 private:
  struct Impl;
  explicit SafetensorsReader(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

struct NamedTensor {
  std::string name;
  ConstTensorView tensor;  // a CPU tensor of any dtype: f32, f64, bf16, f16, i32, i64 or u8
};

// Writes `tensors` (in the given order) and `metadata` to `path`, through a temporary file in
// the same directory renamed into place, so `path` is never left half-written. Each tensor's
// bytes go out as they are, under its dtype's safetensors name (bf16 as "BF16", f16 as "F16":
// what torch.bfloat16 / torch.float16 tensors are saved as).
// Error(invalid_argument) naming the tensor for an empty name, a duplicate, the reserved name
// "__metadata__", names or metadata that are not UTF-8, an undefined view or one not on the CPU.
void write_safetensors(const std::string& path, const std::vector<NamedTensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace gpurnn::io
