#include <cstddef>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>

#include "cli/commands.h"
#include "core/quoted.h"
#include "core/thread_count.h"
#include "platform/build_info.h"
#include "gpurnn/backend.h"
#include "gpurnn/device.h"
#include "gpurnn/error.h"
#include "gpurnn/train/communicator.h"
#include "gpurnn/version.h"

namespace gpurnn::cli {
namespace {

std::string gib(std::size_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f GiB", static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0));
  return text;
}

// "2 usable (affinity 64, cgroup v2 quota 2.0 CPUs from /sys/fs/cgroup/.../cpu.max)": the cores
// this process may use and what limits them (core/thread_count.h).
std::string describe_cores(const detail::CoreLimits& c) {
  std::string quota = "cgroup quota none";
  if (c.quota_cpus) {
    const double q = *c.quota_cpus;
    char cpus[32];
    std::snprintf(cpus, sizeof cpus, q >= 0.1 ? "%.2f" : "%.2g", q);
    std::string text = cpus;
    if (q >= 0.1 && text.back() == '0') text.pop_back();  // 2.00 -> 2.0, 1.50 -> 1.5, 0.25
    quota = "cgroup v" + std::to_string(c.quota_version) + " quota " + text + " CPUs from " +
            detail::escaped(c.quota_file, 200);
  }
  return std::to_string(c.usable) + " usable (affinity " + std::to_string(c.affinity_cores) + ", " + quota + ")";
}

// "  <label>  <text>" with the labels in one column.
void device_line(const std::string& label, const std::string& text) {
  std::cout << "  " << label << std::string(label.size() < 8 ? 8 - label.size() : 1, ' ') << text
            << "\n";
}

}  // namespace

int run_info() {
  std::cout << "libgpurnn " << version() << "\n";
  std::cout << "backends:";
  for (const std::string& b : available_backends()) std::cout << " " << b;
  std::cout << "\n";
  std::cout << "devices:\n";
  // With oneDNN the cpu backend's f32 GEMMs go through its matmul (src/cpu/packed_gemm.h).
  const std::string onednn = detail::onednn_version();
  device_line("cpu", std::to_string(std::thread::hardware_concurrency()) + " hardware threads, " +
                         (onednn.empty() ? "GEMMs through OpenBLAS"
                                         : "f32 GEMMs through oneDNN " + onednn +
                                               " (batch 1: its own GEMV), f64 through OpenBLAS") +
                         ", on gpurnn's worker pool");
  const int count = cuda_device_count();
  if (!cuda_built()) {
    device_line("cuda", "not built (this build has no CUDA)");
  } else if (count == 0) {
    device_line("cuda", "built, but no device found (" + cuda_unavailable_reason() + ")");
  }
  for (int i = 0; i < count; ++i) {
    const std::string label = to_string(Device::cuda(i));
    try {
      const DeviceInfo d = cuda_device_info(i);
      device_line(label, d.name + ", compute " + std::to_string(d.compute_major) + "." +
                             std::to_string(d.compute_minor) + ", " +
                             std::to_string(d.multiprocessors) + " SMs, " + gib(d.total_memory) +
                             ", " + std::to_string(d.shared_memory_per_block_optin / 1024) +
                             " KiB shared memory per block");
    } catch (const Error& e) {  // one broken device does not hide the others
      device_line(label, std::string("error: ") + e.what());
    }
  }
  if (cuda_built()) {
    const std::string cudnn = detail::cudnn_version();
    device_line("cudnn", cudnn.empty()   ? "not built (this build has no cuDNN)"
                         : count == 0    ? "cuDNN " + cudnn + " built, but no CUDA device"
                                         : "cuDNN " + cudnn + " on the CUDA devices above");
  }
  // Virtual devices: listed only when asked for (GPURNN_VIRTUAL_DEVICES), one line each.
  const int virtual_count = virtual_device_count();
  for (int i = 0; i < virtual_count; ++i) {
    device_line(to_string(Device::virtual_device(i)),
                "virtual device in host memory (GPURNN_VIRTUAL_DEVICES): the cpu platform's code behind device "
                "checks; tests device plumbing, not kernels");
  }
  std::cout << "cpu cores: " << describe_cores(detail::core_limits()) << "\n";
  std::cout << "distributed: "
            << (!train::mpi_available() ? "not built (this build has no MPI)"
                : train::nccl_available() ? "MPI and NCCL built (gpurnn train --distributed under mpirun)"
                                          : "MPI built, NCCL not (gpurnn train --distributed under mpirun)")
            << "\n";
  return 0;
}

}  // namespace gpurnn::cli
