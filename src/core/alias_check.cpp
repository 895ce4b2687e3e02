#include "core/alias_check.h"

#include <string>

namespace gpurnn::detail {

void check_no_alias(const char* call, std::initializer_list<NamedView> views) {
  for (auto a = views.begin(); a != views.end(); ++a) {
    if (a->view.empty()) continue;
    const auto* a_begin = static_cast<const unsigned char*>(a->view.data());
    for (auto b = a + 1; b != views.end(); ++b) {
      if (b->view.empty() || !(a->written || b->written)) continue;
      const auto* b_begin = static_cast<const unsigned char*>(b->view.data());
      const bool overlap = a_begin < b_begin + b->view.bytes() && b_begin < a_begin + a->view.bytes();
      check_argument(!overlap, call, b->name, [&] {
        return std::string("overlaps argument '") + a->name +
               "' in memory; an argument the call writes may not alias another";
      });
    }
  }
}

}  // namespace gpurnn::detail
