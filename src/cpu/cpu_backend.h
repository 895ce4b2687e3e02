#pragma once
// The CPU backend: always available, and the reference every other backend is checked against.

#include <memory>

#include "gpurnn/backend.h"

namespace gpurnn::cpu {

std::unique_ptr<Backend> make_cpu_backend(const BackendOptions& options);

}  // namespace gpurnn::cpu
