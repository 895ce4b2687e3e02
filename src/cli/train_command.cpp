// `gpurnn train TASK`: trains a sequence model on one of the built-in tasks (each with embedded
// default data), with a progress display, an evaluation against the task's trivial baseline
// before and after, optional checkpoints, and a last machine-readable `result:` line.

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include "cli/commands.h"
#include "cli/device_choice.h"
#include "cli/output_paths.h"
#include "cli/progress.h"
#include "cli/stop_signals.h"
#include "cli/task_defaults.h"
#include "cli/train_data.h"
#include "cli/train_resume.h"
#include "core/thread_count.h"
#include "gpurnn/train/seq2seq.h"
#include "gpurnn/train/trainer.h"
#include "tasks/task_registry.h"

namespace gpurnn::cli {
namespace {

// The header's account of the CPU thread count and where it came from.
std::string describe_threads(int threads, bool given) {
  const std::string source = given ? "--threads" : "the task's default";
  if (threads != 0) return std::to_string(threads) + " (" + source + ")";
  return "every core (" + std::to_string(detail::usable_cores()) + ", " + source + ")";
}

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string report_line(const std::vector<std::pair<std::string, std::string>>& report) {
  std::string out;
  for (const auto& [key, value] : report) out += (out.empty() ? "" : "  ") + key + " " + value;
  return out;
}

std::string printable(const std::string& text) {
  std::string out;
  for (unsigned char ch : text) out += (ch == '\n' || ch == '\t' || (ch >= 32 && ch != 127)) ? static_cast<char>(ch) : '?';
  return out;
}

// A distributed rank's device (device_choice.h's rule): "auto", "cuda" and "virtual" mean the
// device of its local rank.
Device rank_device(const std::string& text, const train::Communicator& comm) {
  const Device device = resolve_device(text);
  const bool index_given = text.find(':') != std::string::npos;
  return cli::rank_device(device, index_given, comm.rank(), comm.local_rank(), device_count(device.kind));
}

int train_ranks(const TrainOptions& o, std::shared_ptr<train::Communicator> comm);

// The architecture flags every model kind has, against the checkpoint's (`cell`: the flag's text;
// `stored_dtype`: the RNN's compute dtype, what --dtype names).
void check_common_resume_flags(const TrainOptions& o, const std::string& cell, CellKind stored_cell,
                               std::int64_t stored_hidden, std::int64_t stored_layers, std::int64_t stored_embedding,
                               DType stored_dtype) {
  check_resume_flag(o, "--cell", cell, to_string(stored_cell), o.resume);
  check_resume_flag(o, "--hidden", std::to_string(o.hidden), std::to_string(stored_hidden), o.resume);
  check_resume_flag(o, "--layers", std::to_string(o.layers), std::to_string(stored_layers), o.resume);
  check_resume_flag(o, "--embedding", std::to_string(o.embedding), std::to_string(stored_embedding), o.resume);
  if (was_given(o, "--dtype")) {
    check_resume_flag(o, "--dtype", to_string(parse_train_dtype(o.dtype, "--dtype")), to_string(stored_dtype),
                      o.resume);
  }
}

// The encoder-decoder of an output-sequence task: from the flags and the task's defaults, or from
// the checkpoint being resumed (flags that say otherwise are errors naming both).
train::Seq2SeqConfig seq2seq_config(const TrainOptions& o, const train::ModelConfig& model,
                                    const train::TaskDefaults& defaults, const train::CheckpointInfo& resumed) {
  train::Seq2SeqConfig c;
  c.io = model.io;
  c.cell = model.cell;
  c.hidden = model.hidden;
  c.layers = model.layers;
  c.embedding = model.embedding;
  c.dropout = model.dropout;
  c.dtype = model.dtype;
  c.backend = model.backend;
  c.seed = model.seed;
  c.threads = model.threads;
  c.bidirectional = o.bidirectional;
  c.attention = train::parse_attention_score(o.attention.empty() ? defaults.attention : o.attention, "--attention");
  c.teacher_forcing = o.teacher_forcing;
  c.teacher_forcing_final = o.teacher_forcing_final < 0 ? o.teacher_forcing : o.teacher_forcing_final;
  if (resumed.model_kind == "seq2seq") {
    const train::Seq2SeqConfig stored = train::seq2seq_config_from_metadata(resumed.metadata, o.resume);
    check_common_resume_flags(o, to_string(c.cell), stored.cell, stored.hidden, stored.layers, stored.embedding,
                              stored.dtype);
    check_resume_flag(o, "--attention", o.attention, to_string(stored.attention), o.resume);
    check_resume_flag(o, "--bidirectional", "true", stored.bidirectional ? "true" : "false", o.resume);
    const train::Seq2SeqConfig flags = c;
    c = stored;
    c.io = flags.io;  // the Trainer checks it against the checkpoint's task
    c.backend = flags.backend;
    c.threads = flags.threads;
    c.seed = flags.seed;
    if (was_given(o, "--dropout")) c.dropout = flags.dropout;
    if (was_given(o, "--teacher-forcing")) c.teacher_forcing = flags.teacher_forcing;
    if (was_given(o, "--teacher-forcing") || was_given(o, "--teacher-forcing-final")) {
      c.teacher_forcing_final = flags.teacher_forcing_final;
    }
  } else if (resumed.model_kind == "sequence" && !o.resume.empty()) {
    throw Error(ErrorCode::invalid_argument, "checkpoint " + o.resume + " holds a sequence model, not the "
                                             "encoder-decoder task '" + resumed.task + "' needs");
  }
  return c;
}

std::string describe(const train::Seq2SeqConfig& c) {
  const bool pointers = c.io.target == train::TargetKind::pointers;
  return std::string(pointers ? "pointer network" : "encoder-decoder") + " (" + to_string(c.cell) + ", " +
         std::to_string(c.layers) + " layer(s) of " + std::to_string(c.hidden) +
         (c.bidirectional ? ", bidirectional encoder" : "") + ", " + train::to_string(c.attention) + " attention" +
         (c.teacher_forcing < 1 || c.teacher_forcing_final < 1
              ? ", teacher forcing " + format_number(c.teacher_forcing) + " -> " + format_number(c.teacher_forcing_final)
              : std::string()) +
         ")";
}

}  // namespace

int run_train(const TrainOptions& o) {
  if (!o.distributed) return train_ranks(o, nullptr);
  const std::shared_ptr<train::Communicator> comm = train::mpi_world_communicator();
  try {
    return train_ranks(o, comm);
  } catch (const std::exception& e) {
    if (comm->size() == 1) throw;
    // The other ranks may be waiting in a collective: end the job rather than leave them hanging.
    const auto* error = dynamic_cast<const Error*>(&e);
    comm->abort(std::string("error") + (error ? std::string(" (") + to_string(error->code()) + ")" : "") + ": " +
                e.what());
  }
  return 2;  // not reached: abort() ends the process
}

namespace {

// The flags checked before any work: where the checkpoint goes can be written and is no input.
void check_output_flags(const TrainOptions& o, bool reporter) {
  check_argument(o.save_every >= 0, "gpurnn train", "--save-every",
                 "must be >= 0 (0: only at the end), got " + std::to_string(o.save_every));
  if (o.save_every > 0 && o.save.empty()) {
    throw Error(ErrorCode::invalid_argument, "--save-every needs --save FILE (where to write the checkpoints)");
  }
  if (reporter) {
    check_output_paths({{"--save", o.save}}, {{"--text", o.text}, {"--csv", o.csv}, {"--video", o.video},
                                              {"--lengths", o.video_lengths}, {"--labels", o.video_labels}});
  }
}

// What a run trains: the task (a resumed run's is the checkpoint's), its defaults, the model
// and the task's data options, from the flags over the task's defaults.
struct RunPlan {
  std::string task_name;
  train::CheckpointInfo resumed;
  train::TaskDefaults defaults;
  train::ModelConfig model;
  train::TaskOptions task_options;
  std::string cell;          // the --cell text, or the task's default
  std::string threads_line;  // the header's account of the thread count
  std::uint64_t seed = 0;
};

RunPlan plan_run(const TrainOptions& o) {
  RunPlan plan;
  plan.task_name = o.task;
  if (!o.resume.empty()) {
    plan.resumed = train::read_checkpoint_info(o.resume);
    check_resume_flag(o, "task", o.task, plan.resumed.task, o.resume);
    plan.task_name = plan.resumed.task;
  }
  check_task_flags(o.given, plan.task_name);
  // These options hold 0 when not given (the default); a given 0 or less is refused, not taken as it.
  const std::pair<const char*, std::int64_t> counts[] = {{"--seq-len", o.seq_len}, {"--batch", o.batch},
                                                         {"--horizon", o.horizon}, {"--points", o.points},
                                                         {"--eval-examples", o.eval_examples},
                                                         {"--embedding", o.embedding}};
  for (const auto& [flag, value] : counts) {
    check_argument(!was_given(o, flag) || value >= 1, "gpurnn train", flag,
                   "must be at least 1, got " + std::to_string(value) + " (leave " + flag + " out for the default)");
  }
  if (was_given(o, "--column") && o.csv.empty()) {
    throw Error(ErrorCode::invalid_argument, "--column needs --csv FILE (the default series has one column)");
  }
  if (was_given(o, "--momentum") && o.optimizer != "sgd") {
    throw Error(ErrorCode::invalid_argument, "--momentum applies to --optimizer sgd only (this run uses " +
                                                 o.optimizer + ")");
  }
  const train::TaskDefaults& defaults = plan.defaults = train::find_task(plan.task_name).defaults;
  train::ModelConfig& model = plan.model;
  plan.cell = o.cell.empty() ? defaults.cell : o.cell;
  model.cell = parse_cell_kind(plan.cell);
  // --dtype bf16: mixed precision, f32 parameters with the RNN computing in bf16.
  const DType requested_dtype = parse_train_dtype(o.dtype, "--dtype");
  model.dtype = is_half(requested_dtype) ? DType::f32 : requested_dtype;
  model.rnn_dtype = requested_dtype;
  model.hidden = was_given(o, "--hidden") ? o.hidden : defaults.hidden;
  model.layers = was_given(o, "--layers") ? o.layers : 1;
  model.embedding = was_given(o, "--embedding") ? o.embedding : defaults.embedding;
  model.dropout = o.dropout;
  plan.seed = o.seed;
  train::TaskOptions& task_options = plan.task_options;
  task_options.seq_len = o.seq_len;
  task_options.batch = o.batch;
  task_options.points = o.points;
  task_options.horizon = o.horizon;
  task_options.csv_fill = o.fill;
  task_options.difference = o.difference;
  task_options.ar_skip = o.ar_skip;
  task_options.video_path = o.video;
  task_options.lengths_path = o.video_lengths;
  task_options.labels_path = o.video_labels;
  if (!o.resume.empty()) adopt_resumed_data(o, plan.resumed, task_options, plan.seed);
  resolve_data_flags(o, plan.resumed, task_options);
  model.seed = plan.seed;
  const bool threads_given = was_given(o, "--threads");
  if (threads_given) detail::check_thread_count(o.threads, "gpurnn train", "--threads");
  model.threads = threads_given ? o.threads : defaults.threads;
  plan.threads_line = describe_threads(model.threads, threads_given);
  if (!o.resume.empty() && plan.resumed.model_kind == "sequence") {
    const train::CheckpointInfo& info = plan.resumed;
    check_common_resume_flags(o, plan.cell, info.model.cell, info.model.hidden, info.model.layers,
                              info.model.embedding, info.model.rnn_dtype.value_or(info.model.dtype));
    model.cell = info.model.cell;
    model.hidden = info.model.hidden;
    model.layers = info.model.layers;
    model.embedding = info.model.embedding;
    model.dtype = info.model.dtype;
    model.rnn_dtype = info.model.rnn_dtype;
    if (!was_given(o, "--dropout")) model.dropout = info.model.dropout;
  }
  task_options.seed = plan.seed;
  task_options.reverse_source = o.reverse_source;
  task_options.eval_examples = o.eval_examples;
  return plan;
}

// The trainer's configuration from the flags (the schedule is planned once the model exists).
train::TrainConfig train_config(const TrainOptions& o, const RunPlan& plan,
                                std::shared_ptr<train::Communicator> comm) {
  train::TrainConfig config;
  config.clip = was_given(o, "--clip") ? o.clip : plan.defaults.clip;
  config.seed = plan.seed;
  config.eval_batches = o.eval_batches;
  check_argument(o.validate_every >= -1, "gpurnn train", "--validate-every",
                 "must be >= 0 (0: off), got " + std::to_string(o.validate_every));
  config.validate_every = o.validate_every;  // -1 resolved once the steps are known
  config.communicator = std::move(comm);
  config.optimizer.kind = o.optimizer;
  config.optimizer.weight_decay = o.weight_decay;
  config.optimizer.momentum = o.optimizer == "sgd" ? o.momentum : 0.0;
  check_argument(o.temperature > 0, "gpurnn train", "--temperature", "must be positive");
  check_argument(o.sample >= 0, "gpurnn train", "--sample", "must be >= 0");
  return config;
}

// The model a task trains: an encoder-decoder for an output-sequence task, else a sequence
// model; `architecture` says which, for the header.
struct Network {
  std::unique_ptr<train::TrainableModel> net;
  train::SequenceModel* sequence_model = nullptr;
  train::Seq2SeqModel* seq2seq = nullptr;
  std::string architecture;
};

// Mixed precision (--dtype bf16) where it is built: sequence models (not the encoder-decoder
// tasks), on any device whose backend computes bf16 (the RnnLayer refuses one that does not,
// naming it). Checked before the model is made, naming the dtype.
void check_mixed_precision(const RunPlan& plan, bool sequence_task, const Device& /*device*/) {
  const DType rnn = plan.model.rnn_dtype.value_or(plan.model.dtype);
  if (!is_half(rnn)) return;
  const std::string flag = std::string("--dtype ") + to_string(rnn);
  if (sequence_task) {
    throw Error(ErrorCode::unsupported, flag + ": mixed precision is built for the sequence-model tasks (charlm, "
                                               "timeseries, adding, copy, classify), not yet for the encoder-decoder "
                                               "task " + plan.task_name + "; train it with --dtype f32 or f64");
  }
}

Network make_network(const TrainOptions& o, const RunPlan& plan, bool sequence_task) {
  const train::ModelConfig& model = plan.model;
  Network n;
  if (sequence_task) {
    const train::Seq2SeqConfig c = seq2seq_config(o, model, plan.defaults, plan.resumed);
    auto made = std::make_unique<train::Seq2SeqModel>(c);
    n.seq2seq = made.get();
    n.net = std::move(made);
    n.architecture = describe(c);
  } else {
    auto made = std::make_unique<train::SequenceModel>(model);
    n.sequence_model = made.get();
    n.net = std::move(made);
    n.architecture = std::string(to_string(model.cell)) + ", " + std::to_string(model.layers) +
                     " layer(s) of " + std::to_string(model.hidden);
    const DType rnn = n.sequence_model->rnn_dtype();
    if (rnn != model.dtype) {
      n.architecture += std::string(", mixed precision: ") + to_string(model.dtype) + " weights, the RNN in " +
                        to_string(rnn);
    }
  }
  return n;
}

train::DecodeOptions decode_options(const TrainOptions& o, const train::TaskDefaults& defaults) {
  train::DecodeOptions decoding;
  decoding.beam = was_given(o, "--beam") ? o.beam : defaults.beam;
  decoding.length_penalty = o.length_penalty;
  check_argument(decoding.beam >= 1, "gpurnn train", "--beam", "must be >= 1, got " + std::to_string(decoding.beam));
  check_argument(o.length_penalty >= 0, "gpurnn train", "--length-penalty", "must be >= 0");
  return decoding;
}

// What the run is, before the first step: model, data, training, threads, checkpoints, ranks.
void print_header(std::ostream& out, const TrainOptions& o, const RunPlan& plan, const train::Task& task,
                  const Network& n, const train::TrainConfig& config, const Device& device,
                  const std::string& schedule_note, const train::Communicator* comm) {
  out << "gpurnn train " << task.name() << ": " << n.architecture << ", " << n.net->parameter_count()
      << " parameters, device " << to_string(device) << "\n"
      << "data: " << task.describe() << "\n"
      << "training: " << config.steps << " steps, " << config.optimizer.kind << " lr "
      << format_number(config.schedule.base_lr) << " (" << config.schedule.kind << ", warm-up "
      << config.schedule.warmup_steps << "), clip " << format_number(config.clip) << ", seed " << plan.seed << "\n"
      << "threads: " << plan.threads_line << "\n";
  if (!schedule_note.empty()) out << schedule_note << "\n";
  if (o.save_every > 0) out << "checkpoints: every " << o.save_every << " steps and at the end, to " << o.save << "\n";
  if (comm) {
    out << "distributed: " << comm->size() << " ranks (" << comm->name()
        << "), each training on its rows of every batch; progress and throughput are global\n";
  }
}

// The training steps with progress and periodic checkpoints. SIGINT/SIGTERM end the run after
// the step in flight, with a checkpoint when --save is given, and give the exit status; not in
// a distributed run (the ranks would have to agree on the step to stop at).
// `signals` are installed by the caller before it prints its first line (a caller that waits for
// "before:" and signals must find them in place), unset in a distributed run.
std::optional<int> run_steps(std::ostream& out, const TrainOptions& o, const RunPlan& plan, train::Trainer& trainer,
                             const train::TrainConfig& config, Progress& progress,
                             std::optional<StopSignals>& signals) {
  struct Stopped {};
  try {
    trainer.run([&](const train::StepLog& log) {
      if (!std::isfinite(log.loss)) {
        throw Error(ErrorCode::invalid_argument, "training diverged at step " + std::to_string(log.step) +
                                                     " (loss " + format_number(log.loss) + "); try a lower --lr");
      }
      progress.update(log.step, log.loss, log.items);
      const bool stop = signals && StopSignals::received() != 0;
      const bool periodic = o.save_every > 0 && log.step % o.save_every == 0 && log.step < config.steps;
      if (!o.save.empty() && (stop || periodic)) trainer.save_checkpoint(o.save);
      if (stop) throw Stopped{};
    });
  } catch (const Stopped&) {
    progress.finish();
    const int signal = StopSignals::received();
    out << "stopped by " << signal_name(signal) << " at step " << trainer.step() << " of " << config.steps;
    if (o.save.empty()) {
      out << "; nothing saved (no --save)\n";
    } else {
      out << "; saved checkpoint " << o.save << " (continue with: " << continue_command(o, plan.task_options) << ")\n";
    }
    out << std::flush;
    return StopSignals::exit_status(signal);
  }
  signals.reset();
  progress.finish();
  return std::nullopt;
}

// A character model's sample, from a newline when the vocabulary has one (a fresh line reads best).
void print_sample(const TrainOptions& o, const train::Task& task, train::SequenceModel& model, std::int64_t vocabulary) {
  std::vector<std::int32_t> prompt = {0};
  for (std::int32_t t = 0; t < static_cast<std::int32_t>(vocabulary); ++t) {
    if (task.token_text(t) == "\n") prompt = {t};
  }
  std::string text;
  for (std::int32_t t : model.sample(prompt, o.sample, o.temperature, o.seed)) text += task.token_text(t);
  std::cout << "sample (temperature " << format_number(o.temperature) << "):\n" << printable(text) << "\n";
}

int train_ranks(const TrainOptions& o, std::shared_ptr<train::Communicator> comm) {
  // Only rank 0 reports; the others stay silent unless they fail.
  const bool reporter = !comm || comm->rank() == 0;
  std::ostream silent(nullptr);
  std::ostream& out = reporter ? std::cout : silent;
  check_output_flags(o, reporter);
  RunPlan plan = plan_run(o);
  // A data file taken from the checkpoint is an input like --text and --csv.
  if (reporter && (plan.task_options.text_path != o.text || plan.task_options.csv_path != o.csv)) {
    check_output_paths({{"--save", o.save}},
                       {{"--text", plan.task_options.text_path}, {"--csv", plan.task_options.csv_path}});
  }
  const std::unique_ptr<train::Task> task = train::make_task(plan.task_name, plan.task_options);
  const std::string data_note = check_resumed_data(o, plan.resumed, *task);
  const auto* sequence_task = dynamic_cast<const train::SequenceTask*>(task.get());
  const Device device = comm ? rank_device(o.device, *comm) : resolve_device(o.device);
  if (comm && device.kind == DeviceKind::cuda && train::nccl_available()) comm = train::nccl_communicator(comm, device);
  plan.model.io = task->interface();
  plan.model.backend = to_string(device);

  check_mixed_precision(plan, sequence_task != nullptr, device);
  train::TrainConfig config = train_config(o, plan, comm);
  const ProgressStyle style =
      reporter ? parse_progress_style(o.progress, isatty(STDERR_FILENO) != 0) : parse_progress_style("none", false);
  const Network n = make_network(o, plan, sequence_task != nullptr);
  // After the architecture checks (a flag that contradicts the checkpoint is the first error).
  const std::string schedule_note = plan_schedule(o, plan.defaults, plan.resumed, config);
  if (task->validation_data() == nullptr) config.validate_every = 0;
  if (config.validate_every < 0) config.validate_every = std::max<std::int64_t>(1, config.steps / 50);
  train::Trainer trainer(*task, *n.net, config);
  if (!o.resume.empty()) trainer.load_checkpoint(o.resume);
  const train::DecodeOptions decoding = decode_options(o, plan.defaults);
  // The teacher-forced evaluation, and for output-sequence tasks the decoded outputs' metrics.
  const auto evaluate = [&] {
    auto report = task->report(trainer.evaluate());
    if (sequence_task != nullptr) {
      for (auto& entry : sequence_task->report_outputs(train::decode_source(*n.seq2seq, task->eval_data(), decoding))) {
        report.push_back(std::move(entry));
      }
    }
    return report;
  };

  // From here on SIGINT/SIGTERM stop the run cleanly (after the step in flight, or before the
  // first one): installed before the first line a watcher may answer with a signal.
  std::optional<StopSignals> signals;
  if (comm == nullptr) signals.emplace();
  print_header(out, o, plan, *task, n, config, device, schedule_note, comm.get());
  if (!data_note.empty()) out << data_note << "\n";
  if (config.validate_every > 0) {
    out << "early stopping: the validation split scored every " << config.validate_every
        << " steps and after the last; the best step's weights are kept\n";
  }
  if (trainer.step() > 0) {
    out << "resumed from " << o.resume << " at step " << trainer.step() << "\n";
  } else {
    out << "before: " << report_line(evaluate()) << "\n";
  }
  out << std::flush;

  const train::ModelInterface& io = plan.model.io;
  const bool tokens = io.input == train::InputKind::tokens;
  Progress progress(reporter ? std::cerr : silent, style, trainer.step(), config.steps, tokens ? "tokens" : "steps");
  if (const std::optional<int> stopped = run_steps(out, o, plan, trainer, config, progress, signals)) {
    return *stopped;
  }
  const double seconds = progress.seconds();
  std::vector<std::pair<std::string, std::string>> validation;  // the best validation pass, restored
  if (trainer.restore_best()) {
    const train::ValidationBest& best = *trainer.best_validation();
    validation = task->report_validation(best.result);
    validation.emplace_back("best_step", std::to_string(best.step));
    out << "validation: best at step " << best.step << " of " << trainer.step() << ", " << report_line(validation)
        << " (its weights restored)\n";
  }
  if (!o.save.empty()) {
    trainer.save_checkpoint(o.save);
    out << "saved checkpoint " << o.save << " (step " << trainer.step() << ")\n";
  }
  const auto report = evaluate();
  out << "after:  " << report_line(report) << "\n";
  if (reporter && n.sequence_model != nullptr && io.target == train::TargetKind::step_classes && tokens &&
      o.sample > 0 && !task->token_text(0).empty()) {
    print_sample(o, *task, *n.sequence_model, io.input_size);
  }
  std::ostringstream result;
  result << "result: task=" << task->name() << " device=" << to_string(device);
  for (const auto& [key, value] : report) result << " " << key << "=" << value;
  for (const auto& [key, value] : validation) result << " " << key << "=" << value;
  if (sequence_task != nullptr) result << " beam=" << decoding.beam;
  result << " steps=" << trainer.step() << " seconds=" << format_number(seconds);
  out << result.str() << "\n";
  return 0;
}

}  // namespace

}  // namespace gpurnn::cli
