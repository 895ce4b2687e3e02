#pragma once
// The flags of `gpurnn train`.

#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace gpurnn::cli {

void add_train_options(CLI::App& cmd, TrainOptions& o);

}  // namespace gpurnn::cli
