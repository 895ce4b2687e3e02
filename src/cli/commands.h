#pragma once
// The subcommands of the `gpurnn` command; each returns the process exit status.

#include <string>

namespace gpurnn::cli {

int run_info();

struct CheckOptions {
  std::string backend = "all";  // a backend name, or "all"
  unsigned long long seed = 1;
  double tolerance = 1e-4;      // largest relative error accepted against the f64 reference
};
int run_check(const CheckOptions& options);

}  // namespace gpurnn::cli
