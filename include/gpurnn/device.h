#pragma once
// Where a tensor lives: the host ("cpu") or a CUDA device ("cuda:N").

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

}  // namespace gpurnn
