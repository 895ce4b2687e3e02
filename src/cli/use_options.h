#pragma once
// The flags of the commands that use a trained model: `gpurnn generate` and `gpurnn forecast`.

#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace gpurnn::cli {

void add_generate_options(CLI::App& cmd, GenerateOptions& o);
void add_forecast_options(CLI::App& cmd, ForecastOptions& o);

}  // namespace gpurnn::cli
