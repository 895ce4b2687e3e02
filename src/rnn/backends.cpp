#include <string>

#include "cpu/cpu_backend.h"
#include "gpurnn/backend.h"
#include "gpurnn/device.h"
#if defined(GPURNN_HAVE_CUDA)
#include "cuda/cuda_backend.h"
#endif

namespace gpurnn {

std::vector<std::string> available_backends() {
  std::vector<std::string> names = {"cpu"};
  if (cuda_device_count() > 0) names.push_back("cuda");
  return names;
}

std::unique_ptr<Backend> make_backend(const std::string& name, const BackendOptions& options) {
  if (name == "cpu") return cpu::make_cpu_backend(options);
  if (name == "cuda" || name.compare(0, 5, "cuda:") == 0) {
#if defined(GPURNN_HAVE_CUDA)
    return cuda::make_cuda_backend(parse_device(name), options);
#else
    throw Error(ErrorCode::unsupported,
                "make_backend: backend '" + name + "' is not available: this build has no CUDA");
#endif
  }
  std::string known;
  for (const std::string& b : available_backends()) known += (known.empty() ? "" : ", ") + b;
  throw Error(ErrorCode::unsupported,
              "make_backend: argument 'name' is '" + name + "'; this build offers: " + known);
}

}  // namespace gpurnn
