#include "cli/train_options.h"

#include "cli/task_defaults.h"
#include "gpurnn/cell_kind.h"

namespace gpurnn::cli {

void add_train_options(CLI::App& cmd, TrainOptions& o) {
  cmd.add_option("task", o.task,
                 "charlm (default), timeseries, adding, copy, classify, video, or the output-sequence tasks translate, sort, "
                 "convex-hull, tsp")
      ->capture_default_str();
  cmd.add_option("--device", o.device, "auto (a GPU when there is one), cpu, cuda or cuda:N")->capture_default_str();
  cmd.add_option("--cell", o.cell, cell_kind_names(" or ") + " (default: the task's: gru for copy, lstm otherwise)");
  cmd.add_option("--hidden", o.hidden, "Hidden units per layer (default: the task's)");
  cmd.add_option("--layers", o.layers, "RNN layers (default 1)");
  cmd.add_option("--embedding", o.embedding,
                 "Token embedding width (default min(hidden, 64)); features: a per-step Linear projection of this "
                 "width before the RNN (default: video 32, the other tasks none)");
  cmd.add_option("--dropout", o.dropout, "Dropout between layers and before the output layer");
  cmd.add_option("--seq-len", o.seq_len, "Steps per sequence or BPTT chunk (default: the task's)");
  cmd.add_option("--batch", o.batch, "Sequences per batch (default: the task's)");
  cmd.add_option("--steps", o.steps, "Optimizer updates (default: the task's)");
  cmd.add_option("--lr", o.lr, "Peak learning rate (default: the task's)");
  cmd.add_option("--clip", o.clip, "Global gradient-norm limit, 0 = off (default: the task's)");
  cmd.add_option("--optimizer", o.optimizer, "adam, adamw or sgd")->capture_default_str();
  cmd.add_option("--momentum", o.momentum, "SGD momentum")->capture_default_str();
  cmd.add_option("--weight-decay", o.weight_decay, "L2 (sgd, adam) or decoupled (adamw) weight decay")
      ->capture_default_str();
  cmd.add_option("--schedule", o.schedule, "Learning-rate schedule: constant, step or cosine")->capture_default_str();
  cmd.add_option("--warmup", o.warmup, "Linear warm-up steps (default: the task's)");
  cmd.add_option("--seed", o.seed, "Seed of the data, the initial weights and dropout")->capture_default_str();
  cmd.add_option("--save", o.save,
                 "Write a checkpoint here when training ends, and when SIGINT or SIGTERM stops it (exit 130 or 143)");
  cmd.add_option("--save-every", o.save_every, "With --save: also write the checkpoint every N steps (0: only at the end)")
      ->capture_default_str();
  cmd.add_option("--resume", o.resume, "Continue from a checkpoint (its task, architecture and data: without --text or --csv, the file it "
                 "recorded, refused when its content has changed)");
  cmd.add_option("--text", o.text, "charlm: train on this file instead of the embedded corpus");
  cmd.add_option("--csv", o.csv, "timeseries: a CSV file with a header row");
  cmd.add_option("--video", o.video, "video: your clips, [N, T, H, W] .npy (uint8 or float32, zero past each clip's end)");
  cmd.add_option("--lengths", o.video_lengths, "video: each clip's frames, [N] int32 .npy (default: all T)");
  cmd.add_option("--labels", o.video_labels, "video: each clip's label name, one per line (N lines)");
  cmd.add_option("--column", o.column, "timeseries: the CSV column to predict");
  cmd.add_option("--horizon", o.horizon, "timeseries: steps ahead to predict (default 1)");
  cmd.add_option("--fill", o.fill,
                 "timeseries: empty CSV cells (pandas' NaN): previous, interpolate or drop (default: refused)");
  cmd.add_flag("--difference", o.difference,
               "timeseries: model the first differences (for a trending series); predictions are integrated back");
  cmd.add_flag("--ar-skip,!--no-ar-skip", o.ar_skip,
               "timeseries: predict the AR baseline's forecast plus what the model learns it misses (the default; "
               "--no-ar-skip: the model alone)");
  cmd.add_option("--validate-every", o.validate_every,
                 "timeseries: score the validation split (the end of the training range) every N steps and keep "
                 "the best step's weights (default: steps/50; 0: off, the last step's weights)");
  cmd.add_option("--temperature", o.temperature, "charlm: sampling temperature")->capture_default_str();
  cmd.add_option("--sample", o.sample, "charlm: characters to sample after training (0: none)")
      ->capture_default_str();
  cmd.add_option("--eval-batches", o.eval_batches, "Batches per evaluation (0: the whole held-out split)");
  cmd.add_option("--dtype", o.dtype,
                 "f32 or f64, or bf16: mixed precision (f32 weights and optimizer state, the RNN computing in bf16; "
                 "--device cpu only for now)")
      ->capture_default_str();
  cmd.add_option("--threads", o.threads,
                 "CPU threads of the RNN and the layers around it (default: the task's; 0 = every core, "
                 "which the cpu backend shares with other processes without slowing down)");
  cmd.add_flag("--distributed", o.distributed,
               "Data-parallel over the ranks of an MPI job (mpirun -np N): each rank trains on its rows of every "
               "batch; GPU ranks take the GPU of their local rank");
  cmd.add_option("--progress", o.progress, "auto, bar, lines or none")->capture_default_str();
  // Output-sequence tasks.
  cmd.add_option("--attention", o.attention,
                 "Attention score: dot, general or additive (default: general, additive for pointer tasks)");
  cmd.add_flag("--bidirectional", o.bidirectional, "A bidirectional encoder (hidden/2 per direction)");
  cmd.add_option("--teacher-forcing", o.teacher_forcing,
                 "Probability that a decoder input is the reference's previous output, at the first step")
      ->capture_default_str();
  cmd.add_option("--teacher-forcing-final", o.teacher_forcing_final,
                 "... at the last step, linear in between (default: the same as --teacher-forcing)");
  cmd.add_option("--beam", o.beam, "Beam width of the evaluation's decoding, 1 = greedy (default: the task's)");
  cmd.add_option("--length-penalty", o.length_penalty, "Beam length normalisation alpha: log p / ((5+len)/6)^alpha")
      ->capture_default_str();
  cmd.add_option("--points", o.points, "sort: numbers; convex-hull, tsp: points per example (default: the task's)");
  cmd.add_flag("--reverse-source", o.reverse_source, "translate: feed the source words in reverse order");
  cmd.add_option("--eval-examples", o.eval_examples, "Held-out examples decoded by evaluation (default 1000)");
  cmd.footer("\n" + task_defaults_help());
}

}  // namespace gpurnn::cli
