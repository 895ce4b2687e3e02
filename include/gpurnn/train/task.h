#pragma once
// A training task: its data (training and evaluation batch sources), the shape of what a model
// reads and predicts, and how its result is reported against a trivial baseline.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gpurnn/train/batch.h"

namespace gpurnn::train {

// What evaluation measured, over every counted prediction of the evaluation batches.
struct EvalResult {
  double mean_loss = 0.0;        // cross-entropy in nats per counted target, or mean squared error per row
  std::int64_t count = 0;        // counted targets (classes) or rows (values)
  std::optional<double> accuracy;  // classes only: fraction of counted targets predicted (argmax)
};

// Options common to the tasks; a task ignores what does not apply to it and says so in
// describe(). Defaults are each task's own (0 / empty = the task's default).
struct TaskOptions {
  std::int64_t seq_len = 0;     // steps per batch (charlm, timeseries: BPTT chunk; adding, copy: T)
  std::int64_t batch = 0;       // rows per batch
  std::uint64_t seed = 1;
  std::string text_path;        // charlm: a file instead of the embedded corpus
  std::string csv_path;         // timeseries: a CSV file instead of Mackey-Glass
  std::string csv_column;       // timeseries: the column to predict
  std::string csv_fill;         // timeseries: empty cells: "" (refused), previous, interpolate or drop
  bool difference = false;      // timeseries: model the first differences (predictions integrated back)
  bool ar_skip = true;          // timeseries: the model predicts what the AR baseline misses (added back)
  std::int64_t horizon = 0;     // timeseries: steps ahead predicted (1 = one-step)
  std::int64_t points = 0;      // sort: numbers; convex-hull, tsp: points per example
  bool reverse_source = false;  // translate: feed the source words in reverse (Sutskever et al. 2014)
  std::int64_t eval_examples = 0;  // output-sequence tasks: held-out examples decoded by evaluation
  std::string video_path;       // video: clips [N, T, H, W] (.npy, u8 or f32) instead of generated ones
  std::string lengths_path;     // video: each clip's frames [N] (.npy, int32)
  std::string labels_path;      // video: each clip's label name, one per line
};

class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;
  // One line on the data, e.g. "embedded corpus: 412,303 bytes, 97 symbols, 5% held out".
  virtual std::string describe() const = 0;
  virtual ModelInterface interface() const = 0;
  virtual const BatchSource& train_data() const = 0;
  // Evaluated in full (batch 0 .. batches_per_epoch()-1) by each evaluation pass.
  virtual const BatchSource& eval_data() const = 0;
  // The task's metrics from an evaluation, with its trivial baseline beside them, as ordered
  // key/value pairs for the summary and the `result:` line (e.g. bits_per_char, unigram_bits).
  virtual std::vector<std::pair<std::string, std::string>> report(const EvalResult& eval) const = 0;
  // Options that change what the model reads (e.g. translate's reverse_source): checkpoints store
  // them as "task.<key>" and a resume or a `gpurnn run` must use the same.
  virtual std::vector<std::pair<std::string, std::string>> settings() const { return {}; }
  // Where the data came from and what using the model needs beside its weights: checkpoints store
  // them as "data.<key>" (format_version 3). "source" is "file" (with "path", absolute, "bytes"
  // and "hash", the file's content as ContentHash text) or "built-in" (with "generator", and
  // "hash" where the data is one fixed stream); timeseries adds "column", "mean" and "std" (its
  // normalisation). `gpurnn train --resume` checks a run's record against the checkpoint's, and
  // reuses a recorded file when no data flag is given.
  virtual std::vector<std::pair<std::string, std::string>> data_record() const { return {}; }
  // Leading batches of eval_data() that only build the recurrent state (a warm start: the model
  // reads the history before the held-out part first), run and not counted; 0: none.
  virtual std::int64_t eval_warmup_batches() const { return 0; }
  // A validation split (timeseries: the end of the training range), evaluated like eval_data()
  // (its first validation_warmup_batches() batches only build the state) to pick the best
  // weights while training (TrainConfig::validate_every); null when the task has none.
  virtual const BatchSource* validation_data() const { return nullptr; }
  virtual std::int64_t validation_warmup_batches() const { return 0; }
  // The metrics of a validation pass, as report() gives an evaluation's (e.g. val_nrmse).
  virtual std::vector<std::pair<std::string, std::string>> report_validation(const EvalResult& /*eval*/) const {
    return {};
  }
  // The token-to-text mapping for sampling (charlm); empty for other tasks.
  virtual std::string token_text(std::int32_t /*token*/) const { return {}; }
};

// A task whose targets are output sequences (TargetKind output_tokens or pointers), learned by a
// Seq2SeqModel. Its evaluation decodes the held-out inputs (eval_data(), batches in order, rows in
// order) and scores the decoded outputs against the references and the task's baselines.
class SequenceTask : public Task {
 public:
  // Examples in the evaluation split (rows of every eval_data() batch, in order).
  virtual std::int64_t eval_examples() const = 0;
  // The task's metrics for decoded outputs of every evaluation example, in order, with its
  // baselines (and the published reference numbers where there are some): the result line.
  virtual std::vector<std::pair<std::string, std::string>> report_outputs(
      const std::vector<std::vector<std::int32_t>>& outputs) const = 0;
  // `gpurnn run`: one input written as text (e.g. "four thousand and two", or "x y x y ...") as a
  // one-row batch (inputs and lengths; no targets). Error(invalid_argument) saying what was
  // expected for text the task cannot read.
  virtual Batch parse_input(const std::string& text) const = 0;
  // A decoded output of the input `text`, as text (e.g. "4002", or the tour and its length).
  virtual std::string format_output(const std::string& text, const std::vector<std::int32_t>& output) const = 0;
};

// The tasks themselves (charlm, translate, tsp, ...) are not part of libgpurnn: the gpurnn command
// builds them (src/tasks, the gpurnn_tasks library), and a program of its own implements Task.

}  // namespace gpurnn::train
