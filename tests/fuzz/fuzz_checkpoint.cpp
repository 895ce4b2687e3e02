// libFuzzer entry point for `gpurnn train --resume` and `gpurnn run --checkpoint`: a checkpoint
// file (seeds: small adding and sort checkpoints written by the command). read_checkpoint_info
// parses its metadata (numbers, schedule, format version, checksum); a sequence model of the
// adding task is then rebuilt, resumed with Trainer::load_checkpoint (parameters, optimizer state,
// carried state) and trained one more step; an encoder-decoder is rebuilt from its metadata and
// its parameters loaded. A gpurnn::Error is the expected outcome of a changed file at any stage
// before the step; a checkpoint that loaded must train (anything else is a finding). Models
// larger than the seeds' few parameters are not built (the file's sizes are not bounded by
// its bytes).
#include <memory>

#include "fuzz_support.h"
#include "gpurnn/error.h"
#include "gpurnn/train/model.h"
#include "gpurnn/train/seq2seq.h"
#include "gpurnn/train/trainer.h"
#include "tasks/task_registry.h"

namespace {

using namespace gpurnn::train;

constexpr std::int64_t kMaxSize = 64;  // hidden, embedding, input and output sizes built here
constexpr std::int64_t kMaxLayers = 4;

bool small(std::int64_t hidden, std::int64_t layers, std::int64_t embedding, const ModelInterface& io) {
  return hidden <= kMaxSize && layers <= kMaxLayers && embedding <= kMaxSize && io.input_size <= kMaxSize &&
         io.output_size <= kMaxSize;
}

// The task the adding seed was trained on (gpurnn train adding --batch 2 --seq-len 6).
const Task& adding_task() {
  static const std::unique_ptr<Task> task = [] {
    TaskOptions options;
    options.batch = 2;
    options.seq_len = 6;
    return make_task("adding", options);
  }();
  return *task;
}

void resume_sequence_model(const CheckpointInfo& info, const std::string& path) {
  ModelConfig config = info.model;
  if (info.task != "adding" || !small(config.hidden, config.layers, config.embedding, config.io)) return;
  if (info.step > 1000000) return;
  config.backend = "cpu";
  config.threads = 1;
  std::unique_ptr<SequenceModel> model;
  std::unique_ptr<Trainer> trainer;
  try {
    model = std::make_unique<SequenceModel>(config);
    TrainConfig train;
    train.steps = info.step + 1;
    trainer = std::make_unique<Trainer>(adding_task(), *model, train);
    trainer->load_checkpoint(path);
  } catch (const gpurnn::Error& error) {
    gpurnn::fuzz::refused(error);  // refused: fine
    return;
  }
  try {
    trainer->run({}, trainer->step() + 1);
  } catch (const gpurnn::Error& error) {
    std::fprintf(stderr, "a checkpoint that loaded did not resume: %s\n", error.what());
    __builtin_trap();
  }
}

void load_seq2seq_model(const CheckpointInfo& info, const std::string& path) {
  try {
    Seq2SeqConfig config = seq2seq_config_from_metadata(info.metadata, path);
    if (!small(config.hidden, config.layers, config.embedding, config.io) || config.attention_size > kMaxSize) return;
    config.backend = "cpu";
    config.threads = 1;
    Seq2SeqModel model(config);
    load_model_parameters(path, model);
  } catch (const gpurnn::Error& error) {
    gpurnn::fuzz::refused(error);  // refused: fine
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = gpurnn::fuzz::input_file(data, size, ".safetensors");
  CheckpointInfo info;
  try {
    info = read_checkpoint_info(path);
  } catch (const gpurnn::Error& error) {
    return gpurnn::fuzz::refused(error);  // not a checkpoint: fine
  }
  if (info.model_kind == "sequence") resume_sequence_model(info, path);
  if (info.model_kind == "seq2seq") load_seq2seq_model(info, path);
  return 0;
}
