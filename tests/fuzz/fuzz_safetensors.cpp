// libFuzzer entry point for the safetensors reader. Every input is parsed with from_memory;
// a gpurnn::Error is the expected outcome for a broken file. A file that passes validation
// must then read without any error, its records must tile the data section in offset order,
// and each tensor must hold exactly its record's bytes, in the stored dtype (F16/BF16 as
// f16/bf16). Anything else (a crash, another exception, a sanitizer report, a broken invariant)
// is a finding.
#include <cstddef>
#include <cstdint>
#include <optional>

#include "fuzz_support.h"
#include "gpurnn/io/safetensors.h"

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using gpurnn::DType;
  std::optional<gpurnn::io::SafetensorsReader> file;
  try {
    file.emplace(gpurnn::io::SafetensorsReader::from_memory(data, size, "fuzz"));
  } catch (const gpurnn::Error& error) {
    return gpurnn::fuzz::refused(error);  // refused: fine
  }
  // Accepted: from here on nothing may throw.
  std::size_t covered = 0;
  for (const gpurnn::io::SafetensorsRecord& r : file->records()) {
    check(r.begin == covered && r.begin <= r.end && r.end <= size);
    covered = r.end;
    check(file->contains(r.name));
    const gpurnn::Tensor t = file->read(r.name);  // the stored bytes, F16/BF16 included
    check(t.shape() == r.shape);
    check(t.bytes() == r.end - r.begin);
    check(gpurnn::is_half(t.dtype()) == (r.dtype == "F16" || r.dtype == "BF16"));
    const bool floating = gpurnn::is_floating(t.dtype());
    const gpurnn::Tensor wide = file->read_as(r.name, floating ? DType::f64 : DType::i64);
    check(wide.numel() == t.numel());
    if (floating) {  // narrowing any stored value (NaN, inf, subnormal) to half never throws
      check(file->read_as(r.name, DType::bf16).numel() == t.numel());
    }
  }
  std::size_t chars = 0;  // decoded strings are never longer than their JSON text
  for (const auto& [key, value] : file->metadata()) chars += key.size() + value.size();
  check(chars <= size);
  return 0;
}
