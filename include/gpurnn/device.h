#pragma once
// Where a tensor lives: the host ("cpu"), a CUDA device ("cuda:N"), or a virtual device
// ("virtual:N": host memory that only the device's own calls may touch, for testing device code
// paths without a GPU; GPURNN_VIRTUAL_DEVICES=N gives the process N of them).

#include <cstddef>
#include <string>

namespace gpurnn {

// `virtual_device` is a device in host memory that host code cannot read: see
// virtual_device_count() below.
enum class DeviceKind { cpu, cuda, virtual_device };

struct Device {
  DeviceKind kind = DeviceKind::cpu;
  int index = 0;  // CUDA ordinal or virtual device index; 0 for the CPU

  static Device cpu() { return {DeviceKind::cpu, 0}; }
  static Device cuda(int index = 0) { return {DeviceKind::cuda, index}; }
  static Device virtual_device(int index = 0) { return {DeviceKind::virtual_device, index}; }
  // The host: memory that host code may read and write. Every other kind is a device whose
  // memory only its own calls (kernels, copies) may touch.
  bool is_cpu() const { return kind == DeviceKind::cpu; }
  bool operator==(const Device& other) const { return kind == other.kind && index == other.index; }
  bool operator!=(const Device& other) const { return !(*this == other); }
};

std::string to_string(const Device& device);
// "cpu", "cuda", "virtual": the name of a kind, as device names and backend names start.
const char* to_string(DeviceKind kind);
// Parses "cpu", "cuda" (= cuda:0), "cuda:N", "virtual" (= virtual:0) and "virtual:N". Only the
// syntax: whether the device exists is for whoever uses it.
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

// ---- Virtual devices ----------------------------------------------------------------------------
// With the environment variable GPURNN_VIRTUAL_DEVICES=N (1 to 64) the process has devices
// virtual:0 ... virtual:N-1 (backend "virtual:K", make_train_ops, Tensor storage): their memory is
// host memory that host code cannot dereference (a read or write through a device pointer dies
// with SIGSEGV, as it would crash on a GPU), and their calls run the cpu platform's code after
// checking that every tensor is on their device and every host-side argument (lengths) on the
// host. They test device plumbing without a GPU; kernels, cuBLAS and cuDNN still need one.
// 0 when the variable is unset or empty; Error(invalid_argument) naming GPURNN_VIRTUAL_DEVICES
// when it is not a number in [0, 64].
int virtual_device_count();

}  // namespace gpurnn
