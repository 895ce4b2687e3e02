// Trainer checkpoints: one safetensors file holding the model ("model.*", the RNN under its
// PyTorch names so io::load_rnn(path, {"model.rnn."}) reads it), the optimizer state ("optim.*"),
// the carried stream state ("state.h", "state.c"), and in its metadata the task, the architecture,
// the step and the data position, and the task's data record ("data.*": where its data came from
// and what using the model needs, Task::data_record).

#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "core/quoted.h"
#include "gpurnn/io/safetensors.h"
#include "gpurnn/train/trainer.h"
#include "train/batch_shard.h"
#include "train/checkpoint_metadata.h"
#include "train/placement.h"

namespace gpurnn::train {
namespace {

constexpr const char* kFormat = "gpurnn-checkpoint-1";

// The carried state of every rank's rows ([L, b, H] each), as the global [L, global_rows, H] on
// every rank: each rank places its rows into zeros and the ranks sum.
Tensor gather_state(const Tensor& local, std::int64_t global_rows, Communicator& comm) {
  const Tensor host = on_host(local);
  if (comm.size() == 1) return host;
  Tensor whole = Tensor::zeros(Shape{host.dim(0), global_rows, host.dim(2)}, host.dtype());
  place_rows(host, 1, shard_rows(global_rows, comm.rank(), comm.size()).first, whole);
  comm.allreduce_sum(whole.view());
  return whole;
}

// Rank 0 tells every rank whether the file was written (and so holds them until it is).
void share_write_status(bool written, const std::string& path, Communicator& comm) {
  if (comm.size() == 1) return;
  Tensor status = Tensor::empty(Shape{1}, DType::i32);
  status.data_as<std::int32_t>()[0] = written ? 1 : 0;
  comm.broadcast(status.view(), 0);
  if (status.data_as<std::int32_t>()[0] != 1 && comm.rank() != 0) {
    throw Error(ErrorCode::io_error, "rank 0 could not write the checkpoint '" + path + "' (its error is on its stderr)");
  }
}

// Reads `name` as `dtype` after checking it holds `shape`.
Tensor read_exact(const io::SafetensorsReader& file, const std::string& name, const Shape& shape, DType dtype) {
  if (!file.contains(name)) {
    throw Error(ErrorCode::invalid_argument, "checkpoint '" + file.origin() + "' has no tensor '" + name + "'");
  }
  const Shape& stored = file.record(name).shape;
  if (stored != shape) {
    throw Error(ErrorCode::invalid_argument, "checkpoint '" + file.origin() + "': tensor '" + name + "' has shape " +
                                                 to_string(stored) + ", this model expects " + to_string(shape));
  }
  return file.read_as(name, dtype);
}

// The metadata entries that define the architecture, in the order errors report them.
KeyValues architecture(const Task& task, const TrainableModel& model) {
  KeyValues all = {{"task", task.name()}};
  for (auto& entry : task.settings()) all.emplace_back("task." + entry.first, entry.second);
  for (auto& entry : model.architecture()) all.push_back(std::move(entry));
  return all;
}

// Every parameter of `model` from the file's "model.*" tensors (an RNN's flat buffer from its
// PyTorch-named pieces).
void read_parameters(const io::SafetensorsReader& file, const TrainableModel& model) {
  const DType dtype = model.dtype();
  std::set<std::string> expected;
  for (const Parameter& p : model.parameters()) {
    if (p.rnn_layout == nullptr) {
      expected.insert("model." + p.name);
      continue;
    }
    for (const ParameterInfo& info : p.rnn_layout->parameters()) expected.insert("model." + p.name + "." + info.name);
  }
  // A stray tensor (e.g. model.rnn.weight_ih_l5 of a one-layer model) is named, not ignored.
  for (const io::SafetensorsRecord& r : file.records()) {
    if (r.name.rfind("model.", 0) == 0 && expected.count(r.name) == 0) {
      throw Error(ErrorCode::io_error, "checkpoint '" + file.origin() + "' holds tensor " + gpurnn::detail::quoted(r.name) +
                                           ", which is not a parameter of its model (the file was changed?)");
    }
  }
  for (const Parameter& p : model.parameters()) {
    if (p.rnn_layout == nullptr) {
      copy_into(read_exact(file, "model." + p.name, p.value.shape(), dtype), Tensor(p.value).view());
      continue;
    }
    Tensor flat = p.value;
    char* base = static_cast<char*>(flat.data());
    for (const ParameterInfo& info : p.rnn_layout->parameters()) {
      copy_into(read_exact(file, "model." + p.name + "." + info.name, info.shape, dtype),
                TensorView(base + info.offset * dtype_size(dtype), info.shape, dtype, flat.device()));
    }
  }
}

// The global rows of the task's training batches (its setting "batch"); -1 when it does not say.
std::int64_t task_rows(const Task& task) {
  for (const auto& [key, value] : task.settings()) {
    if (key == "batch") return std::stoll(value);  // written by the task itself
  }
  return -1;
}

// The carried state must be what the model carries between batches of `rows` rows (-1: any):
// all of its tensors (h, and c for an LSTM) or, before the first step, none; exactly their
// shapes. A missing or dropped tensor would make the resume start those streams from zeros.
void check_carried_state(const io::SafetensorsReader& file, const TrainableModel& model, std::int64_t rows,
                         std::int64_t step) {
  const char* const names[] = {"state.h", "state.c"};
  const std::string where = "checkpoint '" + file.origin() + "'";
  for (const io::SafetensorsRecord& r : file.records()) {
    const bool known = r.name.rfind("model.", 0) == 0 || r.name.rfind("optim.", 0) == 0 || r.name == names[0] ||
                       r.name == names[1];
    if (!known) {
      throw Error(ErrorCode::io_error, where + " holds tensor " + gpurnn::detail::quoted(r.name) +
                                           ", which is not part of a gpurnn checkpoint (the file was changed?)");
    }
  }
  const std::vector<Shape> shapes = model.carried_state_shapes(rows < 0 ? 1 : rows);
  std::size_t present = 0;
  for (const char* name : names) present += file.contains(name) ? 1 : 0;
  if (present == 0 && (step == 0 || !file.metadata().count("format_version"))) return;  // nothing carried yet
  for (std::size_t k = 0; k < 2; ++k) {
    const bool expected = k < shapes.size();
    if (file.contains(names[k]) && !expected) {
      throw Error(ErrorCode::io_error, where + " holds tensor '" + names[k] + "', a carried state this model (" +
                                           std::to_string(shapes.size()) + " state tensor(s)) does not have");
    }
    if (!expected) continue;
    if (!file.contains(names[k])) {
      throw Error(ErrorCode::io_error, where + " is at step " + std::to_string(step) + " but has no tensor '" +
                                           names[k] + "' (the carried state " + (k == 0 ? "h" : "c") +
                                           "): the resume would not continue the same streams");
    }
    const Shape& stored = file.record(names[k]).shape;
    Shape want = shapes[k];
    if (rows < 0 && stored.rank() == 3) want = Shape{want[0], stored[1], want[2]};
    if (stored != want) {
      throw Error(ErrorCode::io_error, where + ": tensor '" + names[k] + "' has shape " + to_string(stored) +
                                           ", expected " + to_string(want) +
                                           " (layers, batch rows, units) for this model and batch: a carried state "
                                           "that does not fit would be dropped, and the resume would not be exact");
    }
  }
}

const std::string& metadata_value(const io::SafetensorsReader& file, const std::string& key) {
  const auto& meta = file.metadata();
  const auto it = meta.find(key);
  if (it == meta.end()) {
    throw Error(ErrorCode::io_error, "checkpoint '" + file.origin() + "' has no metadata entry '" + key + "'");
  }
  return it->second;
}

constexpr std::int64_t kMaxInt = std::numeric_limits<std::int64_t>::max();

// The metadata entry `key` as an integer in [min, max] or a finite number; Error(io_error) naming
// the file, the key and the text otherwise.
std::int64_t metadata_int(const io::SafetensorsReader& file, const std::string& key, std::int64_t min = 0,
                          std::int64_t max = kMaxInt) {
  return checkpoint_detail::parse_int(file.origin(), key, metadata_value(file, key), min, max);
}

double metadata_double(const io::SafetensorsReader& file, const std::string& key) {
  return checkpoint_detail::parse_number(file.origin(), key, metadata_value(file, key));
}

// Every number a checkpoint's metadata may hold that read_checkpoint_info does not read itself,
// checked when present (the CLI and the decoder read them later).
void check_other_numbers(const io::SafetensorsReader& file) {
  const auto& meta = file.metadata();
  const std::pair<const char*, std::int64_t> at_least[] = {
      {"data_index", 0}, {"ranks", 1}, {"task.batch", 1}, {"task.seq_len", 1}, {"task.points", 1},
      {"task.horizon", 1}, {"data.bytes", 0}};
  for (const auto& [key, min] : at_least) {
    if (meta.count(key)) metadata_int(file, key, min);
  }
  if (meta.count("task.reverse_source")) metadata_int(file, "task.reverse_source", 0, 1);
  if (meta.count("seed")) checkpoint_detail::parse_uint64(file.origin(), "seed", meta.at("seed"));
  for (const char* key : {"data.mean", "data.std"}) {
    if (meta.count(key)) metadata_double(file, key);
  }
}

// A number as text that reads back as the same double.
std::string exact_text(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// The learning-rate schedule under "schedule.*", so that a resume continues the same one.
void put_schedule(const ScheduleConfig& s, std::map<std::string, std::string>& meta) {
  meta["schedule.kind"] = s.kind;
  meta["schedule.base_lr"] = exact_text(s.base_lr);
  meta["schedule.warmup_steps"] = std::to_string(s.warmup_steps);
  meta["schedule.step_size"] = std::to_string(s.step_size);
  meta["schedule.gamma"] = exact_text(s.gamma);
  meta["schedule.total_steps"] = std::to_string(s.total_steps);
  meta["schedule.min_lr"] = exact_text(s.min_lr);
}

std::optional<ScheduleConfig> get_schedule(const io::SafetensorsReader& file) {
  if (file.metadata().count("schedule.kind") == 0) return std::nullopt;  // written before schedules were
  ScheduleConfig s;
  s.kind = metadata_value(file, "schedule.kind");
  s.base_lr = metadata_double(file, "schedule.base_lr");
  s.warmup_steps = metadata_int(file, "schedule.warmup_steps");
  s.step_size = metadata_int(file, "schedule.step_size");
  s.gamma = metadata_double(file, "schedule.gamma");
  s.total_steps = metadata_int(file, "schedule.total_steps");
  s.min_lr = metadata_double(file, "schedule.min_lr");
  return s;
}

io::SafetensorsReader open_checkpoint(const std::string& path) {
  io::SafetensorsReader file(path);
  const auto& meta = file.metadata();
  const auto it = meta.find("format");
  if (it == meta.end() || it->second != kFormat) {
    throw Error(ErrorCode::io_error, "'" + path + "' is not a gpurnn training checkpoint (metadata 'format' is not '" +
                                         std::string(kFormat) + "')");
  }
  checkpoint_detail::verify_content(file);
  return file;
}

}  // namespace

void Trainer::save_checkpoint(const std::string& path) const {
  check_argument(!path.empty(), "Trainer::save_checkpoint", "path", "is empty");
  std::vector<Tensor> keep_alive;  // host copies the views below point into
  std::vector<io::NamedTensor> named;
  for (const Parameter& p : model_.parameters()) {
    const Tensor host = on_host(p.value);
    keep_alive.push_back(host);
    if (p.rnn_layout == nullptr) {
      named.push_back({"model." + p.name, host.view()});
      continue;
    }
    const char* base = static_cast<const char*>(host.data());
    for (const ParameterInfo& info : p.rnn_layout->parameters()) {
      named.push_back({"model." + p.name + "." + info.name,
                       ConstTensorView(base + info.offset * dtype_size(host.dtype()), info.shape, host.dtype())});
    }
  }
  for (const auto& [key, tensor] : optimizer_->state_dict()) {
    keep_alive.push_back(on_host(tensor));
    named.push_back({"optim." + key, keep_alive.back().view()});
  }
  if (train_state_.h.defined()) {
    keep_alive.push_back(gather_state(train_state_.h, global_rows_, *comm_));
    named.push_back({"state.h", keep_alive.back().view()});
  }
  if (train_state_.c.defined()) {
    keep_alive.push_back(gather_state(train_state_.c, global_rows_, *comm_));
    named.push_back({"state.c", keep_alive.back().view()});
  }
  std::map<std::string, std::string> meta = {{"format", kFormat},
                                             {"step", std::to_string(step_)},
                                             {"data_index", std::to_string(step_)},
                                             {"ranks", std::to_string(comm_->size())},
                                             {"data_position",
                                              "every rank's: global batch data_index, rank r of ranks reading its rows "
                                              "[r*B/ranks, (r+1)*B/ranks)"},
                                             {"seed", std::to_string(config_.seed)},
                                             {"optimizer", config_.optimizer.kind}};
  checkpoint_detail::ContentHash hash;  // of the data section: the tensors' bytes in the order written
  for (const io::NamedTensor& t : named) hash.add(t.tensor.data(), t.tensor.bytes());
  meta["format_version"] = std::to_string(checkpoint_detail::kFormatVersion);
  meta["checksum"] = hash.text();
  put_schedule(config_.schedule, meta);
  for (const auto& [key, value] : model_.settings()) meta[key] = value;
  for (const auto& [key, value] : architecture(task_, model_)) meta[key] = value;
  for (const auto& [key, value] : task_.data_record()) meta["data." + key] = value;
  if (comm_->rank() != 0) {
    share_write_status(true, path, *comm_);
    return;
  }
  try {
    io::write_safetensors(path, named, meta);
  } catch (...) {
    share_write_status(false, path, *comm_);
    throw;
  }
  share_write_status(true, path, *comm_);
}

void Trainer::load_checkpoint(const std::string& path) {
  const io::SafetensorsReader file = open_checkpoint(path);
  for (const auto& [key, value] : architecture(task_, model_)) {
    // Task settings recorded since (task.seq_len, task.batch) are absent from older checkpoints.
    if (key.rfind("task.", 0) == 0 && file.metadata().count(key) == 0) continue;
    // rnn_dtype, recorded since mixed precision, is absent from older checkpoints: they computed
    // in their dtype.
    const bool older_rnn_dtype = key == "rnn_dtype" && file.metadata().count(key) == 0;
    const std::string& stored = metadata_value(file, older_rnn_dtype ? "dtype" : key);
    if (stored != value) {
      throw Error(ErrorCode::invalid_argument, "checkpoint '" + path + "' was written for " + key + "=" + gpurnn::detail::escaped(stored) +
                                                   ", but this run has " + key + "=" + value +
                                                   " (a checkpoint resumes only the same task and architecture)");
    }
  }
  const std::string& optimizer = metadata_value(file, "optimizer");
  if (optimizer != config_.optimizer.kind) {
    throw Error(ErrorCode::invalid_argument, "checkpoint '" + path + "' holds " + gpurnn::detail::escaped(optimizer) +
                                                 " optimizer state, but this run uses " + config_.optimizer.kind);
  }
  // Checkpoints from before distributed training have no "ranks": one rank wrote them.
  const std::int64_t ranks = file.metadata().count("ranks") ? metadata_int(file, "ranks", 1) : 1;
  if (ranks != comm_->size()) {
    throw Error(ErrorCode::invalid_argument, "checkpoint '" + path + "' was written by a run with " +
                                                 std::to_string(ranks) + " rank(s), but this run has " +
                                                 std::to_string(comm_->size()) +
                                                 " (resume with the same number of ranks: a rank's rows of each batch "
                                                 "and its dropout masks depend on it)");
  }
  const std::int64_t step = metadata_int(file, "step");

  const DType dtype = model_.dtype();
  const std::vector<Parameter> params = model_.parameters();
  read_parameters(file, model_);
  std::map<std::string, Tensor> optim;
  for (const io::SafetensorsRecord& r : file.records()) {
    if (r.name.rfind("optim.", 0) == 0) optim[r.name.substr(6)] = file.read(r.name);
  }
  optimizer_->load_state_dict(optim, params);
  check_carried_state(file, model_, task_rows(task_), step);
  const auto read_state = [&](const char* name) {
    if (!file.contains(name)) return Tensor();
    Tensor whole = file.read_as(name, dtype);
    if (comm_->size() > 1) {
      global_rows_ = whole.dim(1);
      const auto [first, last] = shard_rows(global_rows_, comm_->rank(), comm_->size());
      whole = slice_rows(whole, 1, first, last);
    }
    return whole.to(model_.device());
  };
  train_state_.h = read_state("state.h");
  train_state_.c = read_state("state.c");
  step_ = step;
}

CheckpointInfo read_checkpoint_info(const std::string& path) {
  const io::SafetensorsReader file = open_checkpoint(path);
  CheckpointInfo info;
  info.metadata = file.metadata();
  info.task = metadata_value(file, "task");
  info.step = metadata_int(file, "step");
  check_other_numbers(file);
  info.schedule = get_schedule(file);
  // Checkpoints from before seq2seq models have no "model": they hold a SequenceModel.
  info.model_kind = file.metadata().count("model") ? metadata_value(file, "model") : "sequence";
  if (info.model_kind != "sequence") return info;
  ModelConfig& m = info.model;
  m.cell = parse_cell_kind(metadata_value(file, "cell"));
  m.hidden = metadata_int(file, "hidden", 1);
  m.layers = metadata_int(file, "layers", 1);
  m.embedding = metadata_int(file, "embedding");
  m.dtype = parse_dtype(metadata_value(file, "dtype"));
  if (file.metadata().count("rnn_dtype")) m.rnn_dtype = parse_dtype(metadata_value(file, "rnn_dtype"));
  m.dropout = metadata_double(file, "dropout");
  const std::string where = "checkpoint '" + path + "' metadata ";
  m.io.input = parse_input_kind(metadata_value(file, "input"), where + "'input'");
  m.io.input_size = metadata_int(file, "input_size", 1);
  m.io.target = parse_target_kind(metadata_value(file, "target"), where + "'target'");
  m.io.output_size = metadata_int(file, "output_size");
  return info;
}

void load_model_parameters(const std::string& path, TrainableModel& model) {
  read_parameters(open_checkpoint(path), model);
}

}  // namespace gpurnn::train
