#pragma once
// The GEMMs by weights of prepared weights (Backend::prepare, backend.h): the handles an Ops'
// prepare_fixed_gemm makes (layer_loop.h WeightGemm), kept for the life of the prepared
// weights instead of one layer call. One handle per distinct FixedWeightGemm (the same at
// every thread count: the cpu backend's handles do not depend on it), made on first use. Every W a handle reads points into
// the prepared snapshot, so a handle never outlives the values it packed.
//
// An Ops opts in by declaring
//   using PreparedCache = PreparedGemms<T, FixedGemm>;
//   PreparedCache* prepared = nullptr;   // StandardBackend points it at the prepared weights'
//                                        // cache for the calls given them
//   static bool prepare_packs();         // whether its handles pack anything in this build
//   static std::size_t packed_bytes(const PreparedCache&);
// and its prepare_fixed_gemm then asks the cache (find_or_make) when `prepared` is set, instead
// of packing for the call.
//
// Thread-safe: several calls may share one cache; the first to need a handle makes it while
// holding the lock, and the others wait for it.

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <type_traits>
#include <vector>

#include "engine/step_ops.h"

namespace gpurnn::engine {

template <class T>
bool same_gemm(const FixedWeightGemm<T>& a, const FixedWeightGemm<T>& b) {
  return a.tw == b.tw && a.m == b.m && a.n == b.n && a.k == b.k && a.w == b.w && a.ldw == b.ldw &&
         a.lda == b.lda && a.ldc == b.ldc && a.beta == b.beta;
}

template <class T, class Handle>
class PreparedGemms {
 public:
  struct Entry {
    FixedWeightGemm<T> gemm;
    Handle handle;
  };

  // The handle of g, made by make(entries) when there is none yet; make may read the entries
  // already made (e.g. to share a packed copy of the same W between batch sizes).
  template <class Make>
  Handle find_or_make(const FixedWeightGemm<T>& g, const Make& make) {
    const std::lock_guard<std::mutex> lock(mutex_);
    for (const Entry& e : entries_) {
      if (same_gemm(e.gemm, g)) return e.handle;
    }
    entries_.push_back(Entry{g, make(static_cast<const std::vector<Entry>&>(entries_))});
    return entries_.back().handle;
  }

  // f(entries) under the lock, for reading what has been made (e.g. the bytes packed).
  template <class F>
  auto visit(const F& f) const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return f(static_cast<const std::vector<Entry>&>(entries_));
  }

  std::size_t size() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return entries_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Entry> entries_;
};

// The prepared cache an Ops declares (PreparedCache), or void for an Ops without one.
template <class Ops, class = void>
struct prepared_cache_of {
  using type = void;
};
template <class Ops>
struct prepared_cache_of<Ops, std::void_t<typename Ops::PreparedCache>> {
  using type = typename Ops::PreparedCache;
};

}  // namespace gpurnn::engine
