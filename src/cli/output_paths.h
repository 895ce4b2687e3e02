#pragma once
// The files a command writes, checked before it does any work: each can be written, and no two
// outputs, nor an output and an input, are the same file (issue 22: `train --save /nonexistent/x`
// trained, then failed and lost the model; `--output a --hn a` was accepted).

#include <string>
#include <vector>

namespace gpurnn::cli {

struct FlagPath {
  const char* flag;  // "--output"
  std::string path;  // "" = not given (skipped)
};

// Error(invalid_argument) naming the flags for an unwritable output or a collision.
void check_output_paths(const std::vector<FlagPath>& outputs, const std::vector<FlagPath>& inputs);

}  // namespace gpurnn::cli
