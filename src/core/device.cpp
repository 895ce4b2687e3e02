#include "gpurnn/device.h"

#include <cctype>

#include "gpurnn/error.h"

namespace gpurnn {

const char* to_string(DeviceKind kind) {
  switch (kind) {
    case DeviceKind::cpu: return "cpu";
    case DeviceKind::cuda: return "cuda";
    case DeviceKind::virtual_device: return "virtual";
  }
  return "unknown";
}

std::string to_string(const Device& device) {
  return device.is_cpu() ? "cpu" : std::string(to_string(device.kind)) + ":" + std::to_string(device.index);
}

Device parse_device(const std::string& text) {
  if (text == "cpu") return Device::cpu();
  for (const DeviceKind kind : {DeviceKind::cuda, DeviceKind::virtual_device}) {
    const std::string name = to_string(kind);
    if (text == name) return {kind, 0};
    const std::string prefix = name + ":";
    if (text.compare(0, prefix.size(), prefix) == 0 && text.size() > prefix.size() &&
        text.size() <= prefix.size() + 4) {
      int index = 0;
      for (std::size_t i = prefix.size(); i < text.size(); ++i) {
        if (!std::isdigit(static_cast<unsigned char>(text[i]))) index = -1;
        if (index >= 0) index = index * 10 + (text[i] - '0');
      }
      if (index >= 0) return {kind, index};
    }
  }
  throw Error(ErrorCode::invalid_argument, "device '" + text +
                                               "' is unknown; expected 'cpu', 'cuda', 'cuda:N', 'virtual' or 'virtual:N'");
}

}  // namespace gpurnn
