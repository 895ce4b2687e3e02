#include "gpurnn/train/trainer.h"

#include <numeric>
#include <tuple>
#include <utility>

#include "gpurnn/detail/counter_random.h"
#include "train/batch_shard.h"
#include "platform/batch_uploader.h"
#include "train/gradient_allreduce.h"
#include "train/prefetcher.h"

namespace gpurnn::train {
namespace {

// Dropout masks of update `step` are drawn from this seed (a pure function: resumes match).
std::uint64_t dropout_seed_of(std::uint64_t seed, std::int64_t step) {
  return detail::random_bits(seed, 0x64726f70 /* "drop" */, static_cast<std::uint64_t>(step));
}

// With several ranks, each rank's masks differ (rows of different ranks are different rows).
std::uint64_t rank_dropout_seed(std::uint64_t seed, std::int64_t step, const Communicator& comm) {
  const std::uint64_t s = dropout_seed_of(seed, step);
  return comm.size() == 1 ? s : detail::random_bits(s, 0x72616e6b /* "rank" */, static_cast<std::uint64_t>(comm.rank()));
}

std::int64_t sequence_steps(const Batch& host) {
  const std::int32_t* len = host.lengths.data_as<std::int32_t>();
  return std::accumulate(len, len + host.lengths.numel(), std::int64_t{0});
}

bool has_class_targets(const Task& task) {
  const TargetKind k = task.interface().target;
  return k == TargetKind::step_classes || k == TargetKind::final_classes || is_sequence_target(k);
}

}  // namespace

Trainer::Trainer(const Task& task, TrainableModel& model, const TrainConfig& config)
    : task_(task), model_(model), config_(config), optimizer_(make_optimizer(config.optimizer)),
      schedule_(config.schedule),
      comm_(config.communicator ? config.communicator : single_process_communicator()) {
  check_argument(config.steps >= 0, "Trainer", "config.steps", "must be >= 0, got " + std::to_string(config.steps));
  check_argument(config.clip >= 0, "Trainer", "config.clip", "must be >= 0 (0: off), got " + std::to_string(config.clip));
  check_argument(config.eval_batches >= 0, "Trainer", "config.eval_batches",
                 "must be >= 0 (0: all), got " + std::to_string(config.eval_batches));
  const ModelInterface want = task.interface();
  const ModelInterface have = model.interface();
  check_argument(want.input == have.input && want.input_size == have.input_size && want.target == have.target &&
                     want.output_size == have.output_size,
                 "Trainer", "model", "does not read and predict what task '" + task.name() + "' needs");
  if (distributed()) {
    for (Parameter& p : model.parameters()) comm_->broadcast(p.value.view(), 0, model.stream());
  }
}

Trainer::~Trainer() = default;

void Trainer::run(const std::function<void(const StepLog&)>& on_step, std::int64_t until) {
  const std::int64_t last = until < 0 ? config_.steps : std::min(until, config_.steps);
  if (step_ >= last) return;
  Prefetcher prefetch(task_.train_data(), step_);
  const std::unique_ptr<BatchUploader> uploader = make_batch_uploader(model_.device());
  const std::vector<Parameter> params = model_.parameters();
  std::unique_ptr<GradientAllreduce> allreduce;
  if (distributed()) allreduce = std::make_unique<GradientAllreduce>(*comm_, model_.ops(), params);
  const TargetKind target = task_.interface().target;
  const auto next_shard = [&] {
    const Batch global = prefetch.next();
    global_rows_ = global.rows();
    return std::make_pair(shard_batch(global, target, comm_->rank(), comm_->size()), sequence_steps(global));
  };

  Batch host;
  std::int64_t items = 0;
  std::tie(host, items) = next_shard();
  uploader->begin(host);
  while (step_ < last) {
    const Batch batch = uploader->finish(model_.stream());
    const std::int64_t batch_items = items;
    if (step_ + 1 < last) {  // the next batch moves while this one computes
      std::tie(host, items) = next_shard();
      uploader->begin(host);
    }
    model_.zero_grad();
    StepContext context;
    context.dropout_seed = rank_dropout_seed(config_.seed, step_, *comm_);
    context.step = step_;
    context.total_steps = config_.steps;
    BatchSums sums = model_.train_step(batch, train_state_, context);
    if (allreduce) sums = allreduce->reduce(sums, model_.stream());
    StepLog log;
    log.grad_norm = clip_grad_norm(model_.ops(), params, config_.clip);
    log.lr = schedule_.lr(step_);
    optimizer_->step(model_.ops(), params, log.lr);
    ++step_;
    log.step = step_;
    log.count = sums.count;
    log.loss = sums.count > 0 ? sums.loss / static_cast<double>(sums.count) : 0.0;
    log.items = batch_items;
    track_validation(log);
    if (on_step) on_step(log);
  }
}

void Trainer::track_validation(StepLog& log) {
  if (config_.validate_every <= 0 || task_.validation_data() == nullptr) return;
  if (step_ % config_.validate_every != 0 && step_ != config_.steps) return;
  const EvalResult result = validate();
  log.validation_loss = result.mean_loss;
  if (best_ && !(result.mean_loss < best_->result.mean_loss)) return;
  best_ = ValidationBest{step_, result};
  const std::vector<Parameter> params = model_.parameters();
  best_values_.resize(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (!best_values_[i].defined()) best_values_[i] = params[i].value.clone();
    else copy_into(params[i].value.view(), best_values_[i].view());
  }
}

bool Trainer::restore_best() {
  if (!best_) return false;
  std::vector<Parameter> params = model_.parameters();  // drops an RNN's prepared weights
  for (std::size_t i = 0; i < params.size(); ++i) copy_into(best_values_[i].view(), params[i].value.view());
  return true;
}

EvalResult Trainer::evaluate() { return evaluate_split(task_.eval_data(), task_.eval_warmup_batches()); }

EvalResult Trainer::validate() {
  const BatchSource* data = task_.validation_data();
  check_argument(data != nullptr, "Trainer::validate", "task", "'" + task_.name() + "' has no validation split");
  return evaluate_split(*data, task_.validation_warmup_batches());
}

EvalResult Trainer::evaluate_split(const BatchSource& data, std::int64_t warmup_batches) {
  // Warm-up batches (the history before the split) build the state and are not counted;
  // config.eval_batches limits the counted ones.
  std::int64_t batches = data.batches_per_epoch();
  if (config_.eval_batches > 0) batches = std::min(batches, warmup_batches + config_.eval_batches);
  const std::unique_ptr<BatchUploader> uploader = make_batch_uploader(model_.device());
  RecurrentState state;
  BatchSums total;
  for (std::int64_t i = 0; i < batches; ++i) {
    const Batch global = data.batch(i);
    if (global.rows() >= comm_->size()) {
      uploader->begin(shard_batch(global, task_.interface().target, comm_->rank(), comm_->size()));
    } else if (comm_->rank() == 0) {
      uploader->begin(global);
    } else {
      continue;
    }
    const BatchSums s = model_.eval_step(uploader->finish(model_.stream()), state);
    if (i < warmup_batches) continue;
    total.loss += s.loss;
    total.count += s.count;
    total.correct += s.correct;
  }
  if (distributed()) {
    Tensor sums = Tensor::empty(Shape{3}, DType::f64);
    double* v = sums.data_as<double>();
    v[0] = total.loss;
    v[1] = static_cast<double>(total.count);
    v[2] = static_cast<double>(total.correct);
    comm_->allreduce_sum(sums.view());
    total = {v[0], static_cast<std::int64_t>(v[1] + 0.5), static_cast<std::int64_t>(v[2] + 0.5)};
  }
  EvalResult result;
  result.count = total.count;
  result.mean_loss = total.count > 0 ? total.loss / static_cast<double>(total.count) : 0.0;
  if (has_class_targets(task_) && total.count > 0) {
    result.accuracy = static_cast<double>(total.correct) / static_cast<double>(total.count);
  }
  return result;
}

}  // namespace gpurnn::train
