#include <cstddef>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>

#include "cli/commands.h"
#include "gpurnn/backend.h"
#include "gpurnn/device.h"
#include "gpurnn/error.h"
#include "gpurnn/version.h"

namespace gpurnn::cli {
namespace {

std::string gib(std::size_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f GiB", static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0));
  return text;
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
  device_line("cpu", std::to_string(std::thread::hardware_concurrency()) +
                         " hardware threads, GEMMs through OpenBLAS");
  if (!cuda_built()) {
    device_line("cuda", "not built (this build has no CUDA)");
    return 0;
  }
  const int count = cuda_device_count();
  if (count == 0) {
    device_line("cuda", "built, but no device found (" + cuda_unavailable_reason() + ")");
    return 0;
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
  return 0;
}

}  // namespace gpurnn::cli
