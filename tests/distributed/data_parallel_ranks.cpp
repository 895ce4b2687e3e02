// Run under `mpirun -np 2` (tests/CMakeLists.txt): data-parallel training checked against one
// process training on the whole batch. Every rank also trains the single-process reference
// itself, so each rank checks its own parameters. Exit status 0 only when every check passes; a
// check that fails, or an exception, ends the whole job through Communicator::abort.
//
//   data_parallel_ranks equivalence       LSTM language model (charlm: tokens, carried state),
//                                          GRU classifier (classify: final-class targets), and the
//                                          seq2seq models of translate (output tokens) and tsp
//                                          (a pointer network)
//   data_parallel_ranks checkpoint DIR    rank-0 checkpoint, resume, refusal of another N
//   data_parallel_ranks fail              rank 1 throws at step 2: the job must end non-zero

#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "gpurnn/io/safetensors.h"
#include "gpurnn/train/communicator.h"
#include "gpurnn/train/seq2seq.h"
#include "gpurnn/train/trainer.h"
#include "tasks/task_registry.h"

namespace {

using namespace gpurnn;
using namespace gpurnn::train;

constexpr double kRelative = 1e-6;  // the bar: summation order differs between N

void require(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error("check failed: " + what);
}

std::unique_ptr<Task> small_task(const std::string& name) {
  TaskOptions options;
  options.points = 6;
  options.eval_examples = 10;
  options.seq_len = 12;
  options.batch = 5;  // 2 and 3 rows: uneven counts, so the count weighting matters
  options.seed = 7;
  return make_task(name, options);
}

ModelConfig small_model(const Task& task, CellKind cell) {
  ModelConfig m;
  m.io = task.interface();
  m.cell = cell;
  m.hidden = 10;
  m.embedding = 8;
  m.dtype = DType::f64;  // so the only differences are the order of sums
  m.seed = 11;
  return m;
}

TrainConfig small_config(std::int64_t steps, std::shared_ptr<Communicator> comm) {
  TrainConfig c;
  c.steps = steps;
  c.schedule.base_lr = 2e-2;
  c.schedule.total_steps = steps;
  c.clip = 0.5;  // small enough to clip: the norm must be the global batch's
  c.eval_batches = 2;
  c.communicator = std::move(comm);
  return c;
}

// Largest |a - b| / (|b| + 1e-12) over every parameter element (both models on the CPU).
double max_relative_difference(const TrainableModel& a, const TrainableModel& b, double* largest_change = nullptr,
                               const TrainableModel* initial = nullptr) {
  const std::vector<Parameter> pa = a.parameters(), pb = b.parameters();
  require(pa.size() == pb.size(), "same parameter count");
  std::vector<Parameter> p0;
  if (initial) p0 = initial->parameters();
  double worst = 0.0, change = 0.0;
  for (std::size_t i = 0; i < pa.size(); ++i) {
    const Tensor x = pa[i].value.to(DType::f64), y = pb[i].value.to(DType::f64);
    for (std::int64_t k = 0; k < x.numel(); ++k) {
      const double u = x.data_as<double>()[k], v = y.data_as<double>()[k];
      worst = std::max(worst, std::abs(u - v) / (std::abs(v) + 1e-12));
      if (!std::isfinite(u)) worst = INFINITY;
    }
    if (initial) {
      const Tensor z = p0[i].value.to(DType::f64);
      for (std::int64_t k = 0; k < x.numel(); ++k) {
        change = std::max(change, std::abs(x.data_as<double>()[k] - z.data_as<double>()[k]));
      }
    }
  }
  if (largest_change) *largest_change = change;
  return worst;
}

// k steps on 2 ranks x B/2 rows against 1 rank x B rows: parameters, losses and evaluation.
using ModelFactory = std::function<std::unique_ptr<TrainableModel>(const Task&)>;

ModelFactory sequence_model(CellKind cell) {
  return [cell](const Task& task) { return std::make_unique<SequenceModel>(small_model(task, cell)); };
}

ModelFactory seq2seq_model(AttentionScore attention) {
  return [attention](const Task& task) {
    Seq2SeqConfig c;
    c.io = task.interface();
    c.hidden = 10;
    c.embedding = 8;
    c.attention = attention;
    c.dtype = DType::f64;
    c.seed = 11;
    return std::make_unique<Seq2SeqModel>(c);
  };
}

void check_equivalence(const std::string& task_name, const ModelFactory& make, std::int64_t steps, Communicator& world,
                       const std::shared_ptr<Communicator>& comm) {
  const auto task = small_task(task_name);
  const auto initial_model = make(*task), distributed_model = make(*task), alone_model = make(*task);
  TrainableModel &initial = *initial_model, &distributed = *distributed_model, &alone = *alone_model;
  Trainer td(*task, distributed, small_config(steps, comm));
  Trainer ta(*task, alone, small_config(steps, nullptr));
  std::vector<StepLog> logs_d, logs_a;
  td.run([&](const StepLog& l) { logs_d.push_back(l); });
  ta.run([&](const StepLog& l) { logs_a.push_back(l); });

  double change = 0.0;
  const double worst = max_relative_difference(distributed, alone, &change, &initial);
  double worst_loss = 0.0;
  for (std::size_t s = 0; s < logs_a.size(); ++s) {
    require(logs_d[s].count == logs_a[s].count && logs_d[s].items == logs_a[s].items,
            "step " + std::to_string(s + 1) + ": the global count and items of the batch");
    worst_loss = std::max(worst_loss, std::abs(logs_d[s].loss - logs_a[s].loss) / std::abs(logs_a[s].loss));
    worst_loss = std::max(worst_loss, std::abs(logs_d[s].grad_norm - logs_a[s].grad_norm) / logs_a[s].grad_norm);
  }
  const EvalResult ed = td.evaluate(), ea = ta.evaluate();
  std::printf("rank %d: %s, %lld steps: max relative parameter difference %.3g (largest change from init %.3g), "
              "loss/grad-norm %.3g, eval loss %.17g vs %.17g\n",
              world.rank(), task_name.c_str(), static_cast<long long>(steps), worst, change,
              worst_loss, ed.mean_loss, ea.mean_loss);
  require(logs_d.size() == static_cast<std::size_t>(steps), "every step ran");
  require(change > 1e-3, task_name + ": training moved the parameters (else equal parameters prove nothing)");
  require(worst <= kRelative, task_name + ": parameters within 1e-6 relative of one rank's");
  require(worst_loss <= kRelative, task_name + ": global loss and gradient norm match one rank's");
  require(ed.count == ea.count && std::abs(ed.mean_loss - ea.mean_loss) <= kRelative * ea.mean_loss,
          task_name + ": sharded evaluation matches one rank's");
}

void check_checkpoint(const std::string& dir, Communicator& world, const std::shared_ptr<Communicator>& comm) {
  const std::string path = dir + "/data_parallel.safetensors";
  const auto task = small_task("charlm");
  const ModelConfig m = small_model(*task, CellKind::lstm);
  SequenceModel first(m), resumed(m), straight(m), alone(m);
  Trainer t1(*task, first, small_config(6, comm));
  t1.run({}, 3);
  t1.save_checkpoint(path);  // every rank calls; rank 0 writes

  const io::SafetensorsReader file(path);
  require(file.metadata().at("ranks") == std::to_string(world.size()), "metadata 'ranks' is the rank count");
  require(file.metadata().at("data_index") == "3", "metadata 'data_index' is the global step");
  require(file.record("state.h").shape[1] == 5, "the checkpoint holds the carried state of all 5 rows");

  Trainer t2(*task, resumed, small_config(6, comm));
  t2.load_checkpoint(path);
  require(t2.step() == 3, "resumed at step 3");
  t2.run();
  Trainer t3(*task, straight, small_config(6, comm));
  t3.run();
  Trainer t4(*task, alone, small_config(6, nullptr));
  t4.run();
  const double vs_straight = max_relative_difference(resumed, straight);
  const double vs_alone = max_relative_difference(resumed, alone);
  std::printf("rank %d: resumed vs uninterrupted %.3g, vs one rank %.3g\n", world.rank(), vs_straight, vs_alone);
  require(vs_straight <= 1e-12, "resuming continues exactly where the uninterrupted run goes");
  require(vs_alone <= kRelative, "the resumed run matches one rank's");

  // Another N is refused with a message naming both counts.
  SequenceModel other(m);
  Trainer single(*task, other, small_config(6, nullptr));
  try {
    single.load_checkpoint(path);
    require(false, "a checkpoint of 2 ranks must not resume on 1");
  } catch (const Error& e) {
    const std::string what = e.what();
    require(e.code() == ErrorCode::invalid_argument && what.find("2 rank(s)") != std::string::npos &&
                what.find("this run has 1") != std::string::npos,
            "refusal names both rank counts, got: " + what);
  }
}

// Rank 1 fails at step 2 while rank 0 goes on into the next all-reduce.
void fail_on_rank_1(Communicator& world, const std::shared_ptr<Communicator>& comm) {
  const auto task = small_task("charlm");
  SequenceModel model(small_model(*task, CellKind::lstm));
  Trainer trainer(*task, model, small_config(1000, comm));
  trainer.run([&](const StepLog& l) {
    if (world.rank() == 1 && l.step == 2) throw std::runtime_error("deliberate failure on rank 1 at step 2");
  });
}

}  // namespace

int main(int argc, char** argv) {
  const std::shared_ptr<Communicator> world = mpi_world_communicator();
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    require(world->size() == 2, "run with mpirun -np 2 (got " + std::to_string(world->size()) + " ranks)");
    if (mode == "equivalence") {
      check_equivalence("charlm", sequence_model(CellKind::lstm), 5, *world, world);
      check_equivalence("classify", sequence_model(CellKind::gru), 5, *world, world);
      check_equivalence("translate", seq2seq_model(AttentionScore::general), 5, *world, world);
      check_equivalence("tsp", seq2seq_model(AttentionScore::additive), 5, *world, world);
    } else if (mode == "checkpoint" && argc > 2) {
      check_checkpoint(argv[2], *world, world);
    } else if (mode == "fail") {
      fail_on_rank_1(*world, world);
      require(false, "rank 1's failure did not end the job");
    } else {
      require(false, "usage: data_parallel_ranks equivalence | checkpoint DIR | fail");
    }
  } catch (const std::exception& e) {
    world->abort(e.what());
  }
  std::printf("rank %d: all checks passed\n", world->rank());
  return 0;
}
