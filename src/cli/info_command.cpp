#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "gpurnn/backend.h"
#include "gpurnn/version.h"

namespace gpurnn::cli {

int run_info() {
  std::cout << "libgpurnn " << version() << "\n";
  std::cout << "backends:";
  for (const std::string& b : available_backends()) std::cout << " " << b;
  std::cout << "\n";
  std::cout << "devices:\n";
  std::cout << "  cpu: " << std::thread::hardware_concurrency()
            << " hardware threads, GEMMs through OpenBLAS\n";
  std::cout << "  cuda: not built (the CUDA backend is not part of this build)\n";
  return 0;
}

}  // namespace gpurnn::cli
