#pragma once
// Where a tensor lives: the host ("cpu") or a CUDA device ("cuda:N").

#include <cstddef>
#include <string>

namespace gpurnn {

enum class DeviceKind { cpu, cuda };

struct Device {
  DeviceKind kind = DeviceKind::cpu;
  int index = 0;  // CUDA ordinal; 0 for the CPU

  static Device cpu() { return {DeviceKind::cpu, 0}; }
  static Device cuda(int index = 0) { return {DeviceKind::cuda, index}; }
  bool is_cpu() const { return kind == DeviceKind::cpu; }
  bool operator==(const Device& other) const { return kind == other.kind && index == other.index; }
  bool operator!=(const Device& other) const { return !(*this == other); }
};

std::string to_string(const Device& device);
// Parses "cpu", "cuda" (= cuda:0) and "cuda:N".
Device parse_device(const std::string& text);

// ---- CUDA devices -------------------------------------------------------------------------------
// What the CUDA runtime reports about one device: enough for `gpurnn info` and for launch
// planning (how many CTAs fit, how much shared memory and how many registers each may use).
struct DeviceInfo {
  Device device;
  std::string name;                     // "NVIDIA H100 80GB HBM3"
  int compute_major = 0, compute_minor = 0;
  int multiprocessors = 0;              // SMs
  std::size_t total_memory = 0;         // bytes of device memory
  std::size_t shared_memory_per_block_optin = 0;      // the most a kernel may opt in to
  std::size_t shared_memory_per_multiprocessor = 0;
  int registers_per_multiprocessor = 0;               // 32-bit registers
  int max_threads_per_multiprocessor = 0;
  std::size_t l2_cache_bytes = 0;
  bool cooperative_launch = false;      // grid-wide barriers (cudaLaunchCooperativeKernel)
};

// Whether this build of libgpurnn has CUDA (whether or not a device is present).
bool cuda_built();
// CUDA devices usable by this process: 0 without CUDA in the build, without a driver or
// without a device (never throws for those; cuda_unavailable_reason() says which).
int cuda_device_count();
// Why cuda_device_count() is 0 ("this build has no CUDA", "cudaErrorNoDevice: no
// CUDA-capable device is detected", ...); empty when there is a device.
std::string cuda_unavailable_reason();
// Properties of device `index`, 0 <= index < cuda_device_count(); otherwise
// Error(invalid_argument) naming 'index'.
DeviceInfo cuda_device_info(int index);

}  // namespace gpurnn
