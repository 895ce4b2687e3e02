#pragma once
// The aliasing rule every call with outputs shares: no argument the call writes may share a
// byte with another argument (read-only arguments may share memory with each other).

#include <initializer_list>

#include "gpurnn/tensor.h"

namespace gpurnn::detail {

struct NamedView {
  const char* name;
  ConstTensorView view;  // empty: an omitted optional argument (never overlaps)
  bool written;          // the call writes it
};

// Error(invalid_argument) naming the later of two overlapping arguments when either is written.
void check_no_alias(const char* call, std::initializer_list<NamedView> views);

}  // namespace gpurnn::detail
