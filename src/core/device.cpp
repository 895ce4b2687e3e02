#include "gpurnn/device.h"

#include <cctype>

#include "gpurnn/error.h"

namespace gpurnn {

std::string to_string(const Device& device) {
  return device.is_cpu() ? "cpu" : "cuda:" + std::to_string(device.index);
}

Device parse_device(const std::string& text) {
  if (text == "cpu") return Device::cpu();
  if (text == "cuda") return Device::cuda(0);
  const std::string prefix = "cuda:";
  if (text.compare(0, prefix.size(), prefix) == 0 && text.size() > prefix.size() &&
      text.size() <= prefix.size() + 4) {
    int index = 0;
    for (std::size_t i = prefix.size(); i < text.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(text[i]))) index = -1;
      if (index >= 0) index = index * 10 + (text[i] - '0');
    }
    if (index >= 0) return Device::cuda(index);
  }
  throw Error(ErrorCode::invalid_argument,
              "device '" + text + "' is unknown; expected 'cpu', 'cuda' or 'cuda:N'");
}

}  // namespace gpurnn
