#pragma once
// An empty batch of a task's shape: inputs zero, targets kIgnoreTarget (classes) or zero
// (values), every length 0 (the source sets each row's length). Sources fill in the rest.

#include <cstdint>

#include "gpurnn/train/batch.h"

namespace gpurnn::train::tasks {

Batch new_batch(const ModelInterface& interface, std::int64_t steps, std::int64_t rows);

}  // namespace gpurnn::train::tasks
