#include "core/build_info.h"

#include <cstddef>

#if defined(GPURNN_HAVE_ONEDNN)
#include <oneapi/dnnl/dnnl.h>
#endif
#if defined(GPURNN_HAVE_CUDNN)
#include <cudnn.h>
#endif

namespace gpurnn::detail {

std::string onednn_version() {
#if defined(GPURNN_HAVE_ONEDNN)
  const dnnl_version_t* v = dnnl_version();
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
#else
  return {};
#endif
}

std::string cudnn_version() {
#if defined(GPURNN_HAVE_CUDNN)
  // cudnnGetVersion() is CUDNN_VERSION of the library loaded: major * 10000 + minor * 100 + patch
  // since cuDNN 9 (major * 1000 + minor * 100 + patch before).
  const std::size_t v = cudnnGetVersion();
  const std::size_t major = v >= 90000 ? v / 10000 : v / 1000;
  const std::size_t minor = v >= 90000 ? v / 100 % 100 : v / 100 % 10;
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(v % 100);
#else
  return {};
#endif
}

}  // namespace gpurnn::detail
