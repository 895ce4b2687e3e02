// `gpurnn`: the command-line front end of libgpurnn.

#include <CLI/CLI.hpp>

#include <iostream>
#include <new>

#include "cli/commands.h"
#include "cli/number_flags.h"
#include "cli/train_options.h"
#include "cli/use_options.h"
#include "gpurnn/cell_kind.h"
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
      ->check(gpurnn::cli::positive_number());

  gpurnn::cli::RunOptions run;
  CLI::App* run_cmd = app.add_subcommand(
      "run", "Run a PyTorch-layout RNN (safetensors) on .npy inputs, as torch.nn.LSTM/GRU/RNN would; or, with "
             "--checkpoint, decode text inputs with a seq2seq/pointer model of `gpurnn train`");
  run_cmd->add_option("--weights", run.weights, "Model: a state_dict saved with safetensors (required without --checkpoint)");
  run_cmd->add_option("--input", run.input, "x: [T, B, I] (or [B, T, I] with --batch-first), .npy (required without --checkpoint)");
  run_cmd->add_option("--output", run.output,
                      "Where to write y [T, B, D*H_out] (.npy; required without --checkpoint), or the decoded lines "
                      "(default: stdout)");
  run_cmd->add_option("--checkpoint", run.checkpoint,
                      "Decode with this checkpoint of gpurnn train (translate, sort, convex-hull, tsp)");
  run_cmd->add_option("--text", run.text_input, "With --checkpoint: one input per line ('-': stdin)");
  run_cmd->add_option("--video", run.video,
                      "With a video --checkpoint: clips [N, T, H, W] (.npy, uint8 or float32; --lengths: each clip's "
                      "frames), each printed with its class and probability");
  run_cmd->add_option("--beam", run.beam, "With --checkpoint: beam width (1 or 0: greedy)")->capture_default_str();
  run_cmd->add_option("--length-penalty", run.length_penalty, "With --checkpoint: beam length normalisation alpha")
      ->capture_default_str();
  run_cmd->add_option("--lengths", run.lengths, "Sequence lengths [B] (.npy, int32/int64)");
  run_cmd->add_option("--h0", run.h0, "Initial hidden state [D*L, B, H_out] (.npy)");
  run_cmd->add_option("--c0", run.c0, "Initial cell state [D*L, B, H] (.npy, LSTM)");
  run_cmd->add_option("--hn", run.hn, "Where to write the final hidden state (.npy)");
  run_cmd->add_option("--cn", run.cn, "Where to write the final cell state (.npy, LSTM)");
  run_cmd->add_flag("--batch-first", run.batch_first, "x and y are [B, T, ...]");
  run_cmd->add_option("--device", run.device, "auto (a GPU when there is one), cpu, cuda or cuda:N")
      ->capture_default_str();
  run_cmd->add_option("--threads", run.threads,
                      "CPU threads (0: every core this process may use, which the cpu backend shares with "
                      "other processes without slowing down: README, Threads)")
      ->capture_default_str();
  run_cmd->add_option("--prefix", run.prefix, "Module prefix of the RNN's tensors, e.g. 'rnn.'");
  run_cmd->add_option("--cell", run.cell,
                      "Cell kind when the file does not say (" + gpurnn::cell_kind_names() + ")");
  run_cmd->add_option("--dtype", run.dtype, "Compute and output precision: f32 or f64")
      ->capture_default_str();

  gpurnn::cli::TrainOptions train;
  CLI::App* train_cmd = app.add_subcommand(
      "train", "Train a model on a built-in task (charlm, timeseries, adding, copy, classify, video; seq2seq: translate, "
               "sort, convex-hull, tsp); each runs with no files on its embedded or generated default data");
  gpurnn::cli::add_train_options(*train_cmd, train);

  gpurnn::cli::GenerateOptions generate;
  CLI::App* generate_cmd = app.add_subcommand(
      "generate", "Generate text with a charlm checkpoint of gpurnn train: the prompt, then bytes drawn one step "
                  "at a time");
  gpurnn::cli::add_generate_options(*generate_cmd, generate);

  gpurnn::cli::ForecastOptions forecast;
  CLI::App* forecast_cmd = app.add_subcommand(
      "forecast", "Forecast a CSV column with a timeseries checkpoint of gpurnn train: warm-started on the history, "
                  "then rolled forward on its own predictions");
  gpurnn::cli::add_forecast_options(*forecast_cmd, forecast);

  gpurnn::cli::BenchOptions bench;
  CLI::App* bench_cmd = app.add_subcommand(
      "bench", "Time the benchmark grid on gpurnn's backends: µs per step and GFLOP/s, median of repetitions");
  bench_cmd->add_option("--backend", bench.backend, "Backend to time, or 'all' (cpu, and cuda when there is a device)")
      ->capture_default_str();
  bench_cmd->add_option("--cell", bench.cell, "Cell kind to time (" + gpurnn::cell_kind_names() + "), or 'all'")
      ->capture_default_str();
  bench_cmd->add_option("--grid", bench.grid, "quick, deepbench (hours on a CPU), lease (the GPU lease grid) or tiny (a smoke test)")
      ->capture_default_str();
  bench_cmd->add_option("--repeat", bench.repeat, "Timed repetitions per case (the median is reported)")
      ->capture_default_str();
  bench_cmd->add_option("--threads", bench.threads, "CPU threads (0 = the library default)")
      ->capture_default_str();
  bench_cmd->add_option("--json", bench.json, "Also write the rows as JSON (bench/report reads it)");
  bench_cmd->add_flag("--prepared", bench.prepared,
                      "Time the calls on prepared weights (Backend::prepare, packed before timing); rows are "
                      "named <backend>_prepared");

  gpurnn::cli::add_number_checks(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; a malformed command line exits 2 like every other error
    // (CLI11's own codes are 101-114).
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  try {
    if (app.got_subcommand("info")) return gpurnn::cli::run_info();
    if (app.got_subcommand("check")) return gpurnn::cli::run_check(check);
    if (app.got_subcommand("run")) {
      for (const CLI::Option* opt : run_cmd->get_options()) {
        if (opt->count() > 0) run.given.push_back(opt->get_name());
      }
      return gpurnn::cli::run_run(run);
    }
    if (app.got_subcommand("train")) {
      for (const CLI::Option* opt : train_cmd->get_options()) {
        if (opt->count() > 0) train.given.push_back(opt->get_name());
      }
      return gpurnn::cli::run_train(train);
    }
    if (app.got_subcommand("generate")) {
      for (const CLI::Option* opt : generate_cmd->get_options()) {
        if (opt->count() > 0) generate.given.push_back(opt->get_name());
      }
      return gpurnn::cli::run_generate(generate);
    }
    if (app.got_subcommand("forecast")) return gpurnn::cli::run_forecast(forecast);

    if (app.got_subcommand("bench")) return gpurnn::cli::run_bench(bench);
  } catch (const gpurnn::Error& e) {
    std::cerr << "gpurnn: error (" << gpurnn::to_string(e.code()) << "): " << e.what() << "\n";
    return 2;
  } catch (const std::bad_alloc&) {  // an allocation outside Tensor::empty's checks
    std::cerr << "gpurnn: error (" << gpurnn::to_string(gpurnn::ErrorCode::out_of_memory)
              << "): out of host memory (std::bad_alloc); a smaller model or batch may fit\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "gpurnn: error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
