#include "cli/use_options.h"

namespace gpurnn::cli {
namespace {

void add_device_options(CLI::App& cmd, std::string& device, int& threads) {
  cmd.add_option("--device", device,
                 "auto (a GPU when there is one), cpu, cuda, cuda:N or virtual:N (GPURNN_VIRTUAL_DEVICES)")
      ->capture_default_str();
  cmd.add_option("--threads", threads, "CPU threads (0: every core this process may use)")->capture_default_str();
}

}  // namespace

void add_generate_options(CLI::App& cmd, GenerateOptions& o) {
  cmd.add_option("--checkpoint", o.checkpoint, "A checkpoint of gpurnn train charlm (--save)")->required();
  cmd.add_option("--prompt", o.prompt,
                 "Text to continue, echoed first; its bytes must be in the model's vocabulary (default: start from "
                 "a new line)");
  cmd.add_option("--length", o.length, "Bytes to generate after the prompt")->capture_default_str();
  cmd.add_option("--temperature", o.temperature, "Sampling temperature (1: the model's distribution)")
      ->capture_default_str();
  cmd.add_option("--seed", o.seed, "Seed of the sampling: the same seed gives the same text")->capture_default_str();
  add_device_options(cmd, o.device, o.threads);
}

void add_forecast_options(CLI::App& cmd, ForecastOptions& o) {
  cmd.add_option("--checkpoint", o.checkpoint, "A checkpoint of gpurnn train timeseries (--save)")->required();
  cmd.add_option("--csv", o.csv, "The history: a CSV file with a header row")->required();
  cmd.add_option("--column", o.column, "The CSV column holding the history (default: the one trained on)");
  cmd.add_option("--steps", o.steps, "Values to predict past the end of the history")->capture_default_str();
  cmd.add_option("--output", o.output, "Write the forecast CSV here, atomically (default: stdout)");
  add_device_options(cmd, o.device, o.threads);
}

}  // namespace gpurnn::cli
