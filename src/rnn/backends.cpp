#include <string>

#include "cpu/cpu_backend.h"
#include "gpurnn/backend.h"
#include "gpurnn/device.h"
#if defined(GPURNN_HAVE_CUDA)
#include "cuda/cuda_backend.h"
#endif
#if defined(GPURNN_HAVE_CUDNN)
#include "cuda/cudnn/cudnn_backend.h"
#include "cuda/cudnn/cudnn_rules.h"
#endif

namespace gpurnn {
namespace {

bool is_cuda_name(const std::string& name) {
  return name == "cuda" || name.compare(0, 5, "cuda:") == 0;
}

bool is_cudnn_name(const std::string& name) {
  return name == "cudnn" || name.compare(0, 6, "cudnn:") == 0;
}

#if defined(GPURNN_HAVE_CUDNN)
// "cudnn:1" -> cuda:1; "cudnn" -> cuda:0.
Device cudnn_device(const std::string& name) {
  return name == "cudnn" ? Device::cuda(0) : parse_device("cuda" + name.substr(5));
}
#endif

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// Refuses an algorithm the backend does not offer, naming the ones it does.
void check_algorithm(const std::string& backend, const std::string& algorithm) {
  if (algorithm.empty()) return;
  const std::vector<std::string> known = backend_algorithms(backend);
  for (const std::string& a : known) {
    if (a == algorithm) return;
  }
  throw Error(ErrorCode::unsupported, "make_backend: algorithm '" + algorithm + "' is not offered by backend '" +
                                          backend + "'; it offers: " + joined(known));
}

}  // namespace

std::vector<std::string> available_backends() {
  std::vector<std::string> names = {"cpu"};
  if (cuda_device_count() > 0) names.push_back("cuda");
#if defined(GPURNN_HAVE_CUDNN)
  if (cuda_device_count() > 0) names.push_back("cudnn");
#endif
  return names;
}

std::vector<std::string> backend_algorithms(const std::string& backend) {
  if (backend == "cpu") return {"standard"};
  if (is_cuda_name(backend)) return {"standard", "persistent", "persistent_sequential_directions", "persistent_full_reduce",
                                  "persistent_elementwise_stage", "auto"};
#if defined(GPURNN_HAVE_CUDNN)
  if (is_cudnn_name(backend)) return cuda::cudnn_algorithm_names();
#endif
  return {};
}

std::unique_ptr<Backend> make_backend(const std::string& full_name, const BackendOptions& given) {
  BackendOptions options = given;
  std::string name = full_name;
  if (const std::size_t slash = full_name.find('/'); slash != std::string::npos) {
    name = full_name.substr(0, slash);
    const std::string algorithm = full_name.substr(slash + 1);
    check_argument(!algorithm.empty(), "make_backend", "name",
                   "'" + full_name + "' has an empty algorithm after '/'");
    check_argument(options.algorithm.empty() || options.algorithm == algorithm, "make_backend", "name",
                   "'" + full_name + "' names algorithm '" + algorithm + "' but options.algorithm is '" +
                       options.algorithm + "'");
    options.algorithm = algorithm;
  }
  if (name == "cpu") {
    check_algorithm(name, options.algorithm);
    return cpu::make_cpu_backend(options);
  }
  if (is_cuda_name(name)) {
#if defined(GPURNN_HAVE_CUDA)
    check_algorithm(name, options.algorithm);
    return cuda::make_cuda_backend(parse_device(name), options);
#else
    throw Error(ErrorCode::unsupported,
                "make_backend: backend '" + name + "' is not available: this build has no CUDA");
#endif
  }
  if (is_cudnn_name(name)) {
#if defined(GPURNN_HAVE_CUDNN)
    check_algorithm(name, options.algorithm);
    return cuda::make_cudnn_backend(cudnn_device(name), options);
#else
    throw Error(ErrorCode::unsupported, "make_backend: backend '" + name +
                                            "' is not available: this build has no cuDNN (see "
                                            "CUDNN_ROOT in src/cmake/gpurnn_cuda.cmake)");
#endif
  }
  throw Error(ErrorCode::unsupported,
              "make_backend: argument 'name' is '" + full_name + "'; this build offers: " +
                  joined(available_backends()));
}

}  // namespace gpurnn
