#pragma once
// The charlm task's default corpus: libgpurnn's own source files, embedded in the library at
// build time (src/cmake/gpurnn_corpus.cmake), one document per file, sorted by path.

#include <string_view>
#include <vector>

namespace gpurnn::train::tasks {

std::vector<std::string_view> embedded_corpus();

}  // namespace gpurnn::train::tasks
