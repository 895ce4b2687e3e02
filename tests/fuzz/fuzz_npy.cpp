// libFuzzer entry point for the .npy reader. Every input is parsed with parse_npy; a
// gpurnn::Error is the expected outcome for a broken file. An accepted file must give a tensor
// whose bytes fit in the input. Anything else (a crash, another exception, a sanitizer report)
// is a finding.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.h"
#include "gpurnn/io/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  gpurnn::Tensor t;
  try {
    t = gpurnn::io::parse_npy(data, size, "fuzz");
  } catch (const gpurnn::Error& error) {
    return gpurnn::fuzz::refused(error);  // refused: fine
  }
  if (!t.defined() || t.bytes() > size || t.numel() != t.shape().numel()) __builtin_trap();
  return 0;
}
