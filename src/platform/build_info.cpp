#include "platform/build_info.h"

#include "platform/platform.h"

namespace gpurnn::detail {
namespace {

// The library_version of the platform named `name`, empty when it is not built or has none.
std::string library_version_of(const std::string& name) {
  for (const platform::Platform& p : platform::platforms()) {
    if (name == p.name) return p.built() && p.library_version ? p.library_version() : std::string();
  }
  return {};
}

}  // namespace

std::string onednn_version() { return library_version_of("cpu"); }

std::string cudnn_version() { return library_version_of("cudnn"); }

}  // namespace gpurnn::detail
