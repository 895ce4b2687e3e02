#include "engine/reserve_header_mirror.h"

#include <algorithm>

namespace gpurnn::engine {

void ReserveHeaderMirror::record(const void* address, const ReserveHeader& header) {
  const std::lock_guard<std::mutex> lock(mutex_);
  const auto it = std::find_if(entries_.begin(), entries_.end(), [&](const auto& e) { return e.first == address; });
  if (it != entries_.end()) entries_.erase(it);
  entries_.emplace_back(address, header);
  if (entries_.size() > kCapacity) entries_.pop_front();
}

std::optional<ReserveHeader> ReserveHeaderMirror::find(const void* address) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (it->first == address) return it->second;
  }
  return std::nullopt;
}

std::size_t ReserveHeaderMirror::size() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

}  // namespace gpurnn::engine
