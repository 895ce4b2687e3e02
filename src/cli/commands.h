#pragma once
// The subcommands of the `gpurnn` command; each returns the process exit status.

#include <cstdint>
#include <string>
#include <vector>

#include "gpurnn/device.h"
#include "gpurnn/dtype.h"

namespace gpurnn::cli {


// The dtype of a computation (--dtype of run): f32, f64, bf16 or f16 (also float32, float64,
// float, double, bfloat16, float16, half); Error naming `flag` and those choices for anything
// else (i32, ...).
DType parse_compute_dtype(const std::string& text, const char* flag);
// The --dtype of `gpurnn train` (also float32, float64, bfloat16): f32 or f64 (the whole model),
// or bf16, mixed precision (f32 parameters and optimizer state, the RNN computing in bf16). f16
// is refused saying why (training in it needs loss scaling, which is not built); anything else
// is an error naming `flag` and the three choices. (`gpurnn run --dtype` takes f16 too:
// parse_compute_dtype.)
DType parse_train_dtype(const std::string& text, const char* flag);

int run_info();

struct CheckOptions {
  std::string backend = "all";  // a backend name, or "all"
  unsigned long long seed = 1;
  double tolerance = 1e-4;      // largest relative error accepted against the f64 reference
};
int run_check(const CheckOptions& options);

struct RunOptions {
  std::string weights, input, output;         // required (a PyTorch RNN on .npy)
  // Or decode with a seq2seq/pointer checkpoint of `gpurnn train`: one input per line of
  // `text_input` ("-": stdin), outputs to `output` or stdout.
  std::string checkpoint, text_input;
  std::string video;                          // or, with a video checkpoint: clips to classify (.npy)
  std::int64_t beam = 0;                      // 0: the task's default
  double length_penalty = 0.6;
  std::string lengths, h0, c0, hn, cn;        // optional files ("" = none)
  bool batch_first = false;
  std::string device = "auto";
  std::string prefix;
  std::string cell;                           // "" = from the file
  std::string dtype = "f32";
  int threads = 0;                            // BackendOptions::num_threads (0: every usable core)
  std::vector<std::string> given;             // flags given on the command line
};
int run_run(const RunOptions& options);     // --checkpoint: run_decode
int run_decode(const RunOptions& options);
int run_video(const RunOptions& options);   // --checkpoint of gpurnn train video, --video

struct TrainOptions {
  std::string task = "charlm";
  std::string device = "auto";
  std::string cell;  // "": the task's default (gru for copy, lstm otherwise)
  std::int64_t hidden = 0, layers = 0, embedding = 0;  // hidden, layers: the task's default unless given
  std::int64_t seq_len = 0, batch = 0, steps = 0;      // 0: the task's default
  double lr = 0, clip = 0, dropout = 0;                // lr, clip: the task's default unless given
  std::string optimizer = "adam", schedule = "cosine";
  double weight_decay = 0, momentum = 0.9;
  std::int64_t warmup = -1;                            // -1: the task's default
  unsigned long long seed = 1;
  std::string save, resume;
  std::int64_t save_every = 0;                         // with --save: a checkpoint every N steps (0: at the end)
  std::string text, csv, column;
  std::string video, video_lengths, video_labels;  // video: a user's clips (--video, --lengths, --labels)
  std::int64_t horizon = 0;
  std::string fill;                // timeseries: empty CSV cells: "" refused, previous, interpolate, drop
  bool difference = false;         // timeseries: model the first differences
  bool ar_skip = true;             // timeseries: the model predicts the AR baseline's residual (--no-ar-skip)
  std::int64_t validate_every = -1;  // timeseries: validation pass every N steps (-1: steps/50; 0: off)
  double temperature = 0.8;
  std::int64_t sample = 300;
  std::int64_t eval_batches = 0;
  std::string progress = "auto";                       // auto, bar, lines, none
  std::string dtype = "f32";
  int threads = 0;           // CPU threads of the RNN (0: the task's default)
  bool distributed = false;  // one rank of an MPI job (mpirun -np N gpurnn train ... --distributed)
  // Output-sequence tasks (translate, sort, convex-hull, tsp):
  std::string attention;                  // "": the task's default (general, or additive for pointers)
  bool bidirectional = false;             // encoder
  double teacher_forcing = 1.0;           // at the first step ...
  double teacher_forcing_final = -1.0;    // ... and the last (-1: the same as the first)
  std::int64_t beam = 0;                  // decoding beam width (0: the task's default)
  double length_penalty = 0.6;            // alpha of the beam's length normalisation
  std::int64_t points = 0;                // sort, convex-hull, tsp: n (0: the task's default)
  bool reverse_source = false;            // translate
  std::int64_t eval_examples = 0;         // held-out examples decoded (0: the task's default)
  // Flags given on the command line (the architecture flags must then match a --resume file).
  std::vector<std::string> given;
};
int run_train(const TrainOptions& options);

// `gpurnn generate`: text from a charlm checkpoint, streamed as it is drawn.
struct GenerateOptions {
  std::string checkpoint;
  std::string prompt;             // echoed, then continued (not given: start from a new line)
  std::int64_t length = 200;      // bytes generated after the prompt
  double temperature = 0.8;
  unsigned long long seed = 1;
  std::string device = "auto";
  int threads = 0;                // BackendOptions::num_threads (0: every usable core)
  std::vector<std::string> given;  // flags given on the command line
};
int run_generate(const GenerateOptions& options);

// `gpurnn forecast`: a timeseries checkpoint warm-started on a CSV column's history, then rolled
// forward on its own predictions.
struct ForecastOptions {
  std::string checkpoint, csv, column;  // column: "" = the one the model was trained on
  std::int64_t steps = 10;
  std::string output;                   // "" = stdout
  std::string device = "auto";
  int threads = 0;
};
int run_forecast(const ForecastOptions& options);

struct BenchOptions {
  std::string backend = "all";  // a backend name, or "all": cpu, and cuda when there is a device
  std::string cell = "all";     // a cell kind, or "all"
  std::string grid = "quick";   // quick, deepbench, lease or tiny (src/perf/bench_cases.h)
  int repeat = 5;               // timed repetitions per case; the median is reported
  int threads = 0;              // BackendOptions::num_threads
  std::string json;             // write the rows here too ("" = no file)
  bool prepared = false;        // calls on Backend::prepare's prepared weights (BenchCase::prepared)
};
int run_bench(const BenchOptions& options);

}  // namespace gpurnn::cli
