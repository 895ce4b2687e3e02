// The list of platforms: the one place, besides the platform folders themselves, that knows
// which this build has (CMake compiles src/cuda only with CUDA, src/cuda/cudnn only with cuDNN).

#include "platform/platform.h"

namespace gpurnn {
// Each defined in its platform's folder.
namespace cpu {
platform::Platform cpu_platform();
}
namespace cuda {
platform::Platform cuda_platform();
platform::Platform cudnn_platform();
}  // namespace cuda
namespace vdev {
platform::Platform virtual_platform();
}

namespace platform {

const std::vector<Platform>& platforms() {
  static const std::vector<Platform> list = {
      cpu::cpu_platform(),
#if defined(GPURNN_HAVE_CUDA)
      cuda::cuda_platform(),
#else
      unbuilt_platform("cuda", DeviceKind::cuda, true, "this build has no CUDA"),
#endif
#if defined(GPURNN_HAVE_CUDNN)
      cuda::cudnn_platform(),
#else
      unbuilt_platform("cudnn", DeviceKind::cuda, false,
                       "this build has no cuDNN (see CUDNN_ROOT in src/cmake/gpurnn_cuda.cmake)"),
#endif
      vdev::virtual_platform(),  // every build; present with GPURNN_VIRTUAL_DEVICES
  };
  return list;
}

}  // namespace platform
}  // namespace gpurnn
