#pragma once
// The training loop over a Task: batches prepared on a host thread (Prefetcher) and moved to the
// device while the previous step computes (BatchUploader), truncated BPTT with the state of each
// stream row carried between chunks, global-norm clipping, an optimizer and a learning-rate
// schedule, evaluation passes without saved activations, and checkpoints that resume exactly.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gpurnn/train/communicator.h"
#include "gpurnn/train/model.h"
#include "gpurnn/train/optimizer.h"
#include "gpurnn/train/task.h"

namespace gpurnn::train {

struct TrainConfig {
  std::int64_t steps = 1000;       // optimizer updates in all (a resumed run continues to this)
  OptimizerConfig optimizer;
  ScheduleConfig schedule;         // schedule.base_lr is the learning rate
  double clip = 1.0;               // global gradient-norm limit (0: no clipping)
  std::int64_t eval_batches = 0;   // batches per evaluation pass (0: the whole evaluation split)
  std::uint64_t seed = 1;          // dropout masks
  // Early stopping, for a task with a validation split (Task::validation_data): a validation pass
  // every `validate_every` updates and after the last; the parameters of the best pass (lowest
  // mean loss) are kept, and restore_best() puts them back. 0: off.
  std::int64_t validate_every = 0;
  // Data parallelism: null or one rank trains alone. With N ranks (every rank builds the same
  // task, model and config and calls the same Trainer methods in the same order), rank r trains
  // on rows [r*B/N, (r+1)*B/N) of every global batch; the gradients are all-reduced (weighted by
  // each rank's counted targets) before clipping and the optimizer step, so the parameters match
  // one rank training on the whole batch up to the order of floating-point sums. The parameters
  // are broadcast from rank 0 when the Trainer is made. Dropout masks also depend on the rank.
  // A communicator of one rank still runs its collectives (so `mpirun -np 1` exercises them).
  std::shared_ptr<Communicator> communicator;
};

struct StepLog {
  std::int64_t step = 0;        // 1-based: updates done
  double loss = 0.0;            // the global batch's mean loss (over every rank)
  std::int64_t count = 0;       // its counted targets
  std::int64_t items = 0;       // sequence steps of the global batch (for global throughput)
  double grad_norm = 0.0;       // before clipping
  double lr = 0.0;
  std::optional<double> validation_loss;  // when a validation pass followed this update
};

// The best validation pass of a run (TrainConfig::validate_every).
struct ValidationBest {
  std::int64_t step = 0;  // updates done when it ran
  EvalResult result;
};

class Trainer {
 public:
  Trainer(const Task& task, TrainableModel& model, const TrainConfig& config);
  ~Trainer();

  std::int64_t step() const { return step_; }
  const TrainConfig& config() const { return config_; }

  // Trains from step() until `until` updates (default: config.steps), calling on_step after each.
  void run(const std::function<void(const StepLog&)>& on_step = {}, std::int64_t until = -1);
  // A pass over the evaluation split (or its first config.eval_batches batches), inference mode.
  // Distributed: sharded by rows like training (a batch with fewer rows than ranks is evaluated
  // by rank 0 alone) and the sums all-reduced, so every rank returns the same global result.
  EvalResult evaluate();
  // A pass over the task's validation split (Task::validation_data; Error(invalid_argument) when
  // it has none), as evaluate() does over the evaluation split.
  EvalResult validate();
  // Early stopping: the best validation pass so far (none before the first), and the model's
  // parameters set to that pass's (false, nothing changed, when there was none). The optimizer
  // state and the step stay the last update's; a checkpoint saved after it holds these weights.
  const std::optional<ValidationBest>& best_validation() const { return best_; }
  bool restore_best();

  // Model, optimizer state, step, data position and carried stream state, to one safetensors file
  // (written to a temporary file and renamed). Distributed: every rank must call it (the carried
  // state of every rank's rows is gathered), rank 0 alone writes the file, and it returns on every
  // rank once the file is written (an error writing it is thrown on every rank). The file holds
  // the global state; its metadata records the rank count and the data position, which is the
  // global step for every rank.
  void save_checkpoint(const std::string& path) const;
  // Restores everything save_checkpoint wrote. Error(invalid_argument) naming the setting when the
  // checkpoint's task or architecture differs from this trainer's; Error(io_error) for an
  // unreadable or malformed file; Error(invalid_argument) when it was written by a run with
  // another number of ranks (resume with the same N: the rows of a rank, and its dropout masks,
  // depend on N).
  void load_checkpoint(const std::string& path);

 private:
  const Task& task_;
  TrainableModel& model_;
  TrainConfig config_;
  std::unique_ptr<Optimizer> optimizer_;
  LrSchedule schedule_;
  std::int64_t step_ = 0;
  bool distributed() const { return config_.communicator != nullptr; }
  std::shared_ptr<Communicator> comm_;  // never null (single_process_communicator())
  RecurrentState train_state_;           // of this rank's rows
  std::int64_t global_rows_ = 0;         // rows of the last global training batch
  std::optional<ValidationBest> best_;   // early stopping: the best validation pass ...
  std::vector<Tensor> best_values_;      // ... and the parameters it had (copies, in parameters() order)
  EvalResult evaluate_split(const BatchSource& data, std::int64_t warmup_batches);
  void track_validation(StepLog& log);
};

// The model settings a checkpoint was written with (to rebuild the model before resuming), and
// the task it trained. Error(io_error) for a file that is not a gpurnn checkpoint.
struct CheckpointInfo {
  std::string task;
  std::string model_kind;  // "sequence" (SequenceModel; `model` holds its config) or "seq2seq"
  ModelConfig model;
  std::int64_t step = 0;
  // The learning-rate schedule the run trained with (TrainConfig::schedule; its total_steps is
  // the run's steps); empty for a checkpoint written before schedules were recorded.
  std::optional<ScheduleConfig> schedule;
  std::map<std::string, std::string> metadata;  // everything the file's metadata holds
};
CheckpointInfo read_checkpoint_info(const std::string& path);

// Reads the model's parameters ("model.*") of a checkpoint into `model` (for inference: decoding,
// evaluation). Error(invalid_argument) naming the tensor for a missing one or another shape;
// Error(io_error) for a file that is not a gpurnn checkpoint.
void load_model_parameters(const std::string& path, TrainableModel& model);

}  // namespace gpurnn::train
