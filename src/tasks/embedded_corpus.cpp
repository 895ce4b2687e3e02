#include "tasks/embedded_corpus.h"

#include <cstdint>

// Defined by the generated embedded_corpus.S: the files back to back, their count, and the
// offset (from gpurnn_corpus_bytes) where each one ends.
extern "C" const char gpurnn_corpus_bytes[];
extern "C" const std::uint64_t gpurnn_corpus_documents;
extern "C" const std::uint64_t gpurnn_corpus_ends[];

namespace gpurnn::train::tasks {

std::vector<std::string_view> embedded_corpus() {
  std::vector<std::string_view> documents;
  std::uint64_t begin = 0;
  for (std::uint64_t d = 0; d < gpurnn_corpus_documents; ++d) {
    const std::uint64_t end = gpurnn_corpus_ends[d];
    documents.emplace_back(gpurnn_corpus_bytes + begin, static_cast<std::size_t>(end - begin));
    begin = end;
  }
  return documents;
}

}  // namespace gpurnn::train::tasks
