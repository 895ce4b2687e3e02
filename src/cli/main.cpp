// `gpurnn`: the command-line front end of libgpurnn.

#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.h"
#include "gpurnn/error.h"
#include "gpurnn/version.h"

int main(int argc, char** argv) {
  CLI::App app{"gpurnn " GPURNN_VERSION_STRING ": RNN, LSTM and GRU on GPUs and CPUs"};
  app.require_subcommand(1);
  app.set_version_flag("--version", GPURNN_VERSION_STRING);

  app.add_subcommand("info", "Show the version, the backends and the devices found");

  gpurnn::cli::CheckOptions check;
  CLI::App* check_cmd = app.add_subcommand(
      "check", "Run random models of every cell kind on every backend against the f64 CPU path");
  check_cmd->add_option("--backend", check.backend, "Backend to check, or 'all'")
      ->capture_default_str();
  check_cmd->add_option("--seed", check.seed, "Seed of the random models and inputs")
      ->capture_default_str();
  check_cmd->add_option("--tolerance", check.tolerance,
                        "Largest relative error accepted, ||a-b||/||b||")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);

  CLI11_PARSE(app, argc, argv);
  try {
    if (app.got_subcommand("info")) return gpurnn::cli::run_info();
    if (app.got_subcommand("check")) return gpurnn::cli::run_check(check);
  } catch (const gpurnn::Error& e) {
    std::cerr << "gpurnn: error (" << gpurnn::to_string(e.code()) << "): " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "gpurnn: error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
