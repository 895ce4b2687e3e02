#include <string>

#include "cpu/cpu_backend.h"
#include "gpurnn/backend.h"

namespace gpurnn {

std::vector<std::string> available_backends() { return {"cpu"}; }

std::unique_ptr<Backend> make_backend(const std::string& name, const BackendOptions& options) {
  if (name == "cpu") return cpu::make_cpu_backend(options);
  std::string known;
  for (const std::string& b : available_backends()) known += (known.empty() ? "" : ", ") + b;
  throw Error(ErrorCode::unsupported,
              "make_backend: argument 'name' is '" + name + "'; this build offers: " + known);
}

}  // namespace gpurnn
