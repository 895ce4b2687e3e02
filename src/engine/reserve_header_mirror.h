#pragma once
// Host copies of the reserve headers one backend wrote, by the header's address. A CUDA reserve
// lives in device memory: reading its header back to check it (backward_data, backward_weights)
// synchronised the stream inside every training step. With the copy the backend wrote kept on
// the host, the checks read that instead; only a reserve this backend did not write (another
// backend object filled it, or its entry was forgotten) is read back from the device.
//
// A reserve is known by its address: a buffer reused at the same address after a training
// forward counts as filled by that forward (as it would when read back). At most kCapacity
// entries are kept; the oldest is forgotten first. Thread-safe.

#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

#include "engine/buffer_layout.h"

namespace gpurnn::engine {

class ReserveHeaderMirror {
 public:
  static constexpr std::size_t kCapacity = 64;

  void record(const void* address, const ReserveHeader& header);
  std::optional<ReserveHeader> find(const void* address) const;
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::deque<std::pair<const void*, ReserveHeader>> entries_;  // the newest last
};

}  // namespace gpurnn::engine
