#include "cli/output_paths.h"

#include "gpurnn/error.h"
#include "io/atomic_file.h"

namespace gpurnn::cli {

void check_output_paths(const std::vector<FlagPath>& outputs, const std::vector<FlagPath>& inputs) {
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const FlagPath& out = outputs[i];
    if (out.path.empty()) continue;
    io::detail::check_writable(out.path, out.flag);
    for (std::size_t j = 0; j < i; ++j) {
      if (!outputs[j].path.empty() && io::detail::same_file(outputs[j].path, out.path)) {
        throw Error(ErrorCode::invalid_argument, std::string(out.flag) + " " + out.path + " is the same file as " +
                                                     outputs[j].flag + " " + outputs[j].path +
                                                     "; give each output its own file");
      }
    }
    for (const FlagPath& in : inputs) {
      if (!in.path.empty() && io::detail::same_file(in.path, out.path)) {
        throw Error(ErrorCode::invalid_argument, std::string(out.flag) + " " + out.path + " is the same file as the input " +
                                                     in.flag + " " + in.path + "; writing it would replace the input");
      }
    }
  }
}

}  // namespace gpurnn::cli
