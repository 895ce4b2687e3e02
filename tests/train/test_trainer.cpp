// Trainer: exact resume from a checkpoint, checkpoint errors, evaluation, and the prefetcher.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>
#include <vector>

#include "gpurnn/io/rnn_file.h"
#include "gpurnn/io/safetensors.h"
#include "gpurnn/train/trainer.h"
#include "checkpoint_edit.h"
#include "test_support.h"
#include "train/prefetcher.h"
#include "train/synthetic_task.h"

namespace gpurnn::testing {
namespace {

using train::InputKind;
using train::ModelConfig;
using train::ModelInterface;
using train::SequenceModel;
using train::StepLog;
using train::TargetKind;
using train::Trainer;
using train::TrainConfig;

const ModelInterface kTokenLm{InputKind::tokens, 11, TargetKind::step_classes, 11};

ModelConfig small_model(const ModelInterface& io, std::int64_t hidden = 8) {
  ModelConfig m;
  m.io = io;
  m.hidden = hidden;
  m.layers = 2;
  m.dropout = 0.2;
  m.seed = 3;
  return m;
}

TrainConfig small_training(const std::string& optimizer) {
  TrainConfig c;
  c.steps = 8;
  c.optimizer.kind = optimizer;
  c.optimizer.momentum = optimizer == "sgd" ? 0.9 : 0.0;
  c.schedule.kind = "cosine";
  c.schedule.base_lr = 1e-2;
  c.schedule.warmup_steps = 2;
  c.schedule.total_steps = c.steps;
  c.clip = 0.5;
  c.seed = 9;
  return c;
}

std::vector<double> losses_of(Trainer& trainer, std::int64_t until) {
  std::vector<double> losses;
  trainer.run([&](const StepLog& log) { losses.push_back(log.loss); }, until);
  return losses;
}

class Resume : public ::testing::TestWithParam<std::string> {};

// Train 2N steps, versus N steps + save + load into a new model and trainer + N steps: the same
// losses bit for bit, and the same final weights.
TEST_P(Resume, ContinuesExactly) {
  const RandomTask task(kTokenLm, 5, 3);
  const TrainConfig config = small_training(GetParam());
  SequenceModel straight_model(small_model(kTokenLm));
  Trainer straight(task, straight_model, config);
  const std::vector<double> all = losses_of(straight, -1);
  ASSERT_EQ(all.size(), 8u);

  ScratchDir dir;
  const std::string path = dir.path() + "/ckpt.safetensors";
  std::vector<double> resumed;
  {
    SequenceModel m(small_model(kTokenLm));
    Trainer first(task, m, config);
    resumed = losses_of(first, 3);  // odd: the next batch carries state, which must be saved
    first.save_checkpoint(path);
  }
  ModelConfig other_seed = small_model(kTokenLm);
  other_seed.seed = 99;  // the checkpoint's weights must replace these
  SequenceModel m2(other_seed);
  Trainer second(task, m2, config);
  second.load_checkpoint(path);
  EXPECT_EQ(second.step(), 3);
  for (double l : losses_of(second, -1)) resumed.push_back(l);
  ASSERT_EQ(resumed.size(), all.size());
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(resumed[i], all[i]) << "step " << i + 1;
  const auto p1 = straight_model.parameters();
  const auto p2 = m2.parameters();
  for (std::size_t k = 0; k < p1.size(); ++k) EXPECT_EQ(relative_error(p2[k].value, p1[k].value), 0.0) << p1[k].name;
}

INSTANTIATE_TEST_SUITE_P(Train, Resume, ::testing::Values("sgd", "adam", "adamw"));

TEST(Checkpoint, RnnReadableByLoadRnnAndMetadataDescribesTheModel) {
  const RandomTask task(kTokenLm, 4, 2);
  SequenceModel model(small_model(kTokenLm));
  Trainer trainer(task, model, small_training("adam"));
  trainer.run({}, 2);
  ScratchDir dir;
  const std::string path = dir.path() + "/c.safetensors";
  trainer.save_checkpoint(path);
  io::RNNLoadOptions o;
  o.prefix = "model.rnn.";
  o.cell = CellKind::lstm;
  const RNNWeights w = io::load_rnn(path, o);
  RNNDescriptor expected = model.rnn_descriptor();
  expected.dropout = 0;  // not a weight: safetensors files do not carry it
  EXPECT_EQ(w.descriptor(), expected);
  EXPECT_EQ(relative_error(w.flat(), model.rnn_weights().flat()), 0.0);
  const train::CheckpointInfo info = train::read_checkpoint_info(path);
  EXPECT_EQ(info.task, "random");
  EXPECT_EQ(info.step, 2);
  EXPECT_EQ(info.model.hidden, 8);
  EXPECT_EQ(info.model.layers, 2);
  EXPECT_EQ(info.model.io.input_size, 11);
  EXPECT_EQ(info.model.io.target, TargetKind::step_classes);
}

TEST(Checkpoint, AnotherArchitectureOrFileIsAClearError) {
  const RandomTask task(kTokenLm, 4, 2);
  SequenceModel model(small_model(kTokenLm));
  Trainer trainer(task, model, small_training("adam"));
  trainer.run({}, 1);
  ScratchDir dir;
  const std::string path = dir.path() + "/c.safetensors";
  trainer.save_checkpoint(path);

  SequenceModel wider(small_model(kTokenLm, 12));
  Trainer t2(task, wider, small_training("adam"));
  expect_error([&] { t2.load_checkpoint(path); }, ErrorCode::invalid_argument, {"hidden=8", "hidden=12"});
  SequenceModel same(small_model(kTokenLm));
  Trainer t3(task, same, small_training("sgd"));
  expect_error([&] { t3.load_checkpoint(path); }, ErrorCode::invalid_argument, {"adam", "sgd"});
  expect_error([&] { t3.load_checkpoint(dir.path() + "/missing.safetensors"); }, ErrorCode::io_error, {"missing"});
  // A safetensors file that is not a checkpoint (an RNN saved by save_rnn).
  const std::string plain = dir.path() + "/rnn.safetensors";
  io::save_rnn(plain, model.rnn_weights());
  expect_error([&] { t3.load_checkpoint(plain); }, ErrorCode::io_error, {"not a gpurnn training checkpoint"});
  expect_error([&] { train::read_checkpoint_info(plain); }, ErrorCode::io_error, {"not a gpurnn training checkpoint"});
}

// Issue 22: a corrupt number in a checkpoint's metadata said only "stod". Each malformed number
// is an io_error naming the key, the text and what was expected; the schedule reads back exactly.
TEST(Checkpoint, MalformedMetadataNumbersNameTheKey) {
  const RandomTask task(kTokenLm, 4, 2);
  SequenceModel model(small_model(kTokenLm));
  TrainConfig config = small_training("adam");
  config.schedule.base_lr = 0.1 / 3;
  Trainer trainer(task, model, config);
  trainer.run({}, 1);
  ScratchDir dir;
  const std::string good = dir.path() + "/good.safetensors";
  trainer.save_checkpoint(good);
  const train::CheckpointInfo info = train::read_checkpoint_info(good);
  ASSERT_TRUE(info.schedule.has_value());
  EXPECT_EQ(info.schedule->base_lr, 0.1 / 3);  // %.17g round-trips
  EXPECT_EQ(info.schedule->kind, config.schedule.kind);
  EXPECT_EQ(info.schedule->total_steps, config.schedule.total_steps);

  const io::SafetensorsReader file(good);
  std::vector<Tensor> keep;
  std::vector<io::NamedTensor> tensors;
  for (const io::SafetensorsRecord& r : file.records()) {
    keep.push_back(file.read(r.name));
    tensors.push_back({r.name, keep.back().view()});
  }
  for (const auto& [key, text, expected] :
       std::vector<std::tuple<std::string, std::string, std::string>>{{"dropout", "abc", "a number"},
                                                                      {"schedule.base_lr", "0.1x", "a number"},
                                                                      {"step", "7.5", "an integer"},
                                                                      {"schedule.warmup_steps", "", "an integer"},
                                                                      // Issue 34: "-1" wrapped to 2^64-1.
                                                                      {"seed", "-1", "an integer in [0, 18446744073709551615]"},
                                                                      {"ranks", "0x2", "an integer in [1, "},
                                                                      {"step", " 3", "an integer"},
                                                                      {"step", "+3", "an integer"},
                                                                      {"data_index", "-4", "an integer in [0, "},
                                                                      {"dropout", "nan", "a number"},
                                                                      {"format_version", "two", "an integer"}}) {
    std::map<std::string, std::string> meta = file.metadata();
    meta[key] = text;
    const std::string bad = dir.path() + "/bad.safetensors";
    io::write_safetensors(bad, tensors, meta);
    expect_error([&] { train::read_checkpoint_info(bad); }, ErrorCode::io_error,
                 {"bad.safetensors", "'" + key + "'", "'" + text + "'", "expected " + expected});
  }
}

// Issue 34: flipped data bytes loaded. The checksum in the metadata is verified by every reader;
// a checkpoint of an older build (no checksum, no format_version) still loads and resumes.
TEST(Checkpoint, ChecksumRefusesChangedDataAndOlderFilesStillLoad) {
  const RandomTask task(kTokenLm, 4, 2);
  SequenceModel model(small_model(kTokenLm));
  Trainer trainer(task, model, small_training("adam"));
  trainer.run({}, 1);
  ScratchDir dir;
  const std::string good = dir.file("good.safetensors");
  trainer.save_checkpoint(good);
  const io::SafetensorsReader file(good);
  EXPECT_EQ(file.metadata().at("format_version"), std::to_string(train::checkpoint_detail::kFormatVersion));
  EXPECT_EQ(file.metadata().at("checksum").rfind("fnv1a64:", 0), 0u);

  const std::string flipped = dir.file("flipped.safetensors");
  std::filesystem::copy_file(good, flipped);
  flip_byte(flipped);
  SequenceModel other(small_model(kTokenLm));
  Trainer resumed(task, other, small_training("adam"));
  const std::initializer_list<std::string> mismatch = {"flipped.safetensors",
                                                       "checksum mismatch: the file was changed or corrupted"};
  expect_error([&] { resumed.load_checkpoint(flipped); }, ErrorCode::io_error, mismatch);
  expect_error([&] { train::read_checkpoint_info(flipped); }, ErrorCode::io_error, mismatch);
  expect_error([&] { train::load_model_parameters(flipped, other); }, ErrorCode::io_error, mismatch);

  const std::string older = dir.file("older.safetensors");
  strip_checksum(good, older);
  ASSERT_EQ(io::SafetensorsReader(older).metadata().count("checksum"), 0u);
  resumed.load_checkpoint(older);
  EXPECT_EQ(resumed.step(), 1);
  EXPECT_EQ(train::read_checkpoint_info(older).step, 1);

  const std::string newer = dir.file("newer.safetensors");
  const std::string next = std::to_string(train::checkpoint_detail::kFormatVersion + 1);
  rewrite_checkpoint(good, newer, [&](CheckpointTensors&, CheckpointMetadata& m) { m["format_version"] = next; });
  expect_error([&] { train::read_checkpoint_info(newer); }, ErrorCode::io_error, {"format_version " + next, "newer"});
  const std::string unsummed = dir.file("unsummed.safetensors");
  rewrite_checkpoint(good, unsummed, [](CheckpointTensors&, CheckpointMetadata& m) { m.erase("checksum"); });
  expect_error([&] { train::read_checkpoint_info(unsummed); }, ErrorCode::io_error, {"no metadata 'checksum'"});
}

// Issue 34: a carried state of another shape was dropped and a missing state.c accepted (the
// resume was no longer exact); a stray tensor was ignored. Each is an io_error naming the file
// and the tensor.
TEST(Checkpoint, CarriedStateMustBeWholeAndFitAndStrayTensorsAreNamed) {
  const RandomTask task(kTokenLm, 4, 2);
  SequenceModel model(small_model(kTokenLm));  // an LSTM: it carries h and c
  Trainer trainer(task, model, small_training("adam"));
  trainer.run({}, 3);
  ScratchDir dir;
  const std::string good = dir.file("good.safetensors");
  trainer.save_checkpoint(good);
  const auto edited = [&](const std::string& name, const std::function<void(CheckpointTensors&)>& edit) {
    rewrite_checkpoint(good, dir.file(name), [&](CheckpointTensors& t, CheckpointMetadata&) { edit(t); });
    return dir.file(name);
  };
  const auto drop = [](const std::string& name) {
    return [name](CheckpointTensors& t) {
      t.erase(std::remove_if(t.begin(), t.end(), [&](const auto& e) { return e.first == name; }), t.end());
    };
  };
  const auto reshape = [](const std::string& name, const Shape& shape) {
    return [name, shape](CheckpointTensors& t) {
      for (auto& e : t) {
        if (e.first == name) e.second = Tensor::zeros(shape, e.second.dtype());
      }
    };
  };
  SequenceModel other(small_model(kTokenLm));
  Trainer resumed(task, other, small_training("adam"));
  const Shape h = io::SafetensorsReader(good).record("state.h").shape;
  ASSERT_EQ(h.rank(), 3);
  struct Case {
    std::string path;
    std::vector<std::string> parts;
  };
  const Case cases[] = {
      {edited("no_c.safetensors", drop("state.c")), {"no_c.safetensors", "'state.c'", "would not continue"}},
      {edited("no_h.safetensors", drop("state.h")), {"no_h.safetensors", "'state.h'"}},
      {edited("rank.safetensors", reshape("state.h", Shape{h[0] * h[1], h[2]})),
       {"rank.safetensors", "'state.h' has shape " + to_string(Shape{h[0] * h[1], h[2]}), "batch rows"}},
      {edited("layers.safetensors", reshape("state.c", Shape{h[0] + 1, h[1], h[2]})),
       {"layers.safetensors", "'state.c' has shape"}},
      {edited("stray.safetensors",
              [](CheckpointTensors& t) { t.emplace_back("model.rnn.weight_ih_l5", Tensor::zeros({3}, DType::f32)); }),
       {"stray.safetensors", "'model.rnn.weight_ih_l5'", "not a parameter"}},
      {edited("alien.safetensors",
              [](CheckpointTensors& t) { t.emplace_back("extra", Tensor::zeros({3}, DType::f32)); }),
       {"alien.safetensors", "'extra'"}},
  };
  for (const Case& c : cases) {
    expect_error([&] { resumed.load_checkpoint(c.path); }, ErrorCode::io_error,
                 std::initializer_list<std::string>{});
    try {
      resumed.load_checkpoint(c.path);
    } catch (const Error& e) {
      for (const std::string& part : c.parts) EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  }
  resumed.load_checkpoint(good);  // the untouched file still resumes
  EXPECT_EQ(resumed.step(), 3);
}

TEST(Trainer, LearnsAndEvaluates) {
  // Final-value regression of random targets cannot be learned beyond their mean, but the
  // training loss on a fixed batch set must fall: train on 2 repeating batches.
  class TwoBatches final : public train::BatchSource {
   public:
    std::int64_t batches_per_epoch() const override { return 2; }
    train::Batch batch(std::int64_t i) const override {
      return random_batch({InputKind::features, 3, TargetKind::final_values, 1}, 4, 6, 10 + i % 2);
    }
  };
  class Fixed final : public train::Task {
   public:
    std::string name() const override { return "fixed"; }
    std::string describe() const override { return ""; }
    train::ModelInterface interface() const override { return {InputKind::features, 3, TargetKind::final_values, 1}; }
    const train::BatchSource& train_data() const override { return data_; }
    const train::BatchSource& eval_data() const override { return data_; }
    std::vector<std::pair<std::string, std::string>> report(const train::EvalResult&) const override { return {}; }

   private:
    TwoBatches data_;
  } task;
  ModelConfig m = small_model(task.interface(), 16);
  m.dropout = 0;
  SequenceModel model(m);
  TrainConfig c = small_training("adam");
  c.steps = 200;
  c.schedule.total_steps = 200;
  Trainer trainer(task, model, c);
  const double before = trainer.evaluate().mean_loss;
  trainer.run();
  const train::EvalResult after = trainer.evaluate();
  EXPECT_EQ(after.count, 12);
  EXPECT_FALSE(after.accuracy.has_value());
  EXPECT_LT(after.mean_loss, 0.1 * before);
}

TEST(Trainer, ModelOfAnotherTaskIsRefused) {
  const RandomTask task(kTokenLm, 4, 2);
  SequenceModel model(small_model({InputKind::features, 3, TargetKind::final_values, 1}));
  expect_error([&] { Trainer t(task, model, small_training("adam")); }, ErrorCode::invalid_argument,
               {"'model'", "'random'"});
  SequenceModel ok(small_model(kTokenLm));
  TrainConfig bad = small_training("adam");
  bad.clip = -1;
  expect_error([&] { Trainer t(task, ok, bad); }, ErrorCode::invalid_argument, {"'config.clip'"});
  bad = small_training("rmsprop");
  expect_error([&] { Trainer t(task, ok, bad); }, ErrorCode::invalid_argument, {"rmsprop"});
}

// ---- prefetcher ---------------------------------------------------------------------------------
class CountingSource final : public train::BatchSource {
 public:
  explicit CountingSource(std::int64_t fail_at = -1) : fail_at_(fail_at) {}
  std::int64_t batches_per_epoch() const override { return 100; }
  train::Batch batch(std::int64_t i) const override {
    if (i == fail_at_) throw Error(ErrorCode::io_error, "batch " + std::to_string(i) + " is unreadable");
    train::Batch b;
    const std::int32_t v = static_cast<std::int32_t>(i);
    b.inputs = Tensor::from_host<std::int32_t>({1, 1}, &v);
    return b;
  }

 private:
  std::int64_t fail_at_;
};

TEST(Prefetcher, DeliversInIndexOrderFromTheFirstIndex) {
  const CountingSource source;
  train::Prefetcher p(source, 5, 3);
  for (std::int32_t i = 5; i < 40; ++i) EXPECT_EQ(p.next().inputs.data_as<std::int32_t>()[0], i);
}

TEST(Prefetcher, RethrowsTheSourcesErrorAfterTheBatchesBeforeIt) {
  const CountingSource source(3);
  train::Prefetcher p(source, 0);
  for (std::int32_t i = 0; i < 3; ++i) EXPECT_EQ(p.next().inputs.data_as<std::int32_t>()[0], i);
  expect_error([&] { p.next(); }, ErrorCode::io_error, {"batch 3 is unreadable"});
}

TEST(Prefetcher, StopsCleanlyWithBatchesUnread) {
  const CountingSource source;
  for (int k = 0; k < 20; ++k) train::Prefetcher p(source, 0, 2);
}

}  // namespace
}  // namespace gpurnn::testing
