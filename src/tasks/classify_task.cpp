// Sequence classification, the shape of sensor or video classification: a sequence of frames
// of 3 features, one class for the whole sequence (final_classes). Default data: noisy
// waveforms of 5 kinds (waveforms.h), lengths 20..60 frames (seq_len sets the longest; the
// shortest is a third of it). A fixed training set and a held-out set are drawn from the seed;
// training batches are bucketed by length (bucketed_source.h).
#include <algorithm>
#include <string>

#include "gpurnn/error.h"
#include "tasks/bucketed_source.h"
#include "tasks/task_support.h"
#include "tasks/tasks.h"
#include "tasks/waveforms.h"

namespace gpurnn::train::tasks {
namespace {

constexpr std::int64_t kDefaultMaxLength = 60;
constexpr std::int64_t kDefaultRows = 32;
constexpr std::int64_t kTrainExamples = 4096;
constexpr std::int64_t kEvalExamples = 1024;
constexpr std::int64_t kPoolBatches = 16;
constexpr const char* kClassNames = "sine, square, sawtooth, triangle, chirp";

// Example n of a split: a pure function of (seed, split, n).
std::shared_ptr<const SequenceDataset> draw_dataset(std::uint64_t seed, std::uint64_t split,
                                                    std::int64_t examples, std::int64_t min_length,
                                                    std::int64_t max_length) {
  auto dataset = std::make_shared<SequenceDataset>();
  dataset->features = kWaveformChannels;
  for (std::int64_t n = 0; n < examples; ++n) {
    CounterRng rng({seed, kDatasetStream, split, static_cast<std::uint64_t>(n)});
    const WaveformParams params = draw_waveform(rng, min_length, max_length);
    dataset->frames.push_back(render_waveform(params, kWaveformNoise, rng));
    dataset->labels.push_back(static_cast<std::int32_t>(params.kind));
  }
  return dataset;
}

class ClassifyTask : public BasicTask {
 public:
  explicit ClassifyTask(const TaskOptions& options) : BasicTask("classify") {
    const std::int64_t max_length =
        option_or(options.seq_len, kDefaultMaxLength, "make_task(classify)", "seq_len");
    check_argument(max_length >= 3, "make_task(classify)", "seq_len",
                   "must be at least 3, got " + std::to_string(max_length));
    const std::int64_t min_length = max_length / 3;
    const std::int64_t rows = option_or(options.batch, kDefaultRows, "make_task(classify)", "batch");
    interface_ = {InputKind::features, kWaveformChannels, TargetKind::final_classes, kWaveformKinds};
    train_ = std::make_unique<BucketedSource>(
        draw_dataset(options.seed, kTrainStream, kTrainExamples, min_length, max_length),
        kWaveformKinds, rows, kPoolBatches, options.seed);
    auto eval_set = draw_dataset(options.seed, kEvalStream, kEvalExamples, min_length, max_length);
    std::vector<std::int64_t> per_class(kWaveformKinds, 0);
    for (std::int32_t label : eval_set->labels) ++per_class[static_cast<std::size_t>(label)];
    chance_accuracy_ = static_cast<double>(*std::max_element(per_class.begin(), per_class.end())) /
                       static_cast<double>(kEvalExamples);
    eval_ = std::make_unique<BucketedSource>(eval_set, kWaveformKinds, rows, kPoolBatches, options.seed);
    settings_ = {{"seq_len", std::to_string(max_length)}, {"batch", std::to_string(rows)}};
    description_ = "noisy waveforms (" + std::string(kClassNames) + "), " +
                   std::to_string(kWaveformChannels) + " sensor channels, lengths " +
                   std::to_string(min_length) + ".." + std::to_string(max_length) + " frames; " +
                   std::to_string(kTrainExamples) + " training and " +
                   std::to_string(kEvalExamples) + " held-out sequences drawn from the seed, "
                   "bucketed by length, batch " + std::to_string(rows);
  }

  Report report(const EvalResult& eval) const override {
    Report report;
    if (eval.accuracy) report.emplace_back("accuracy", format_number(*eval.accuracy));
    report.emplace_back("chance_accuracy", format_number(chance_accuracy_));
    report.emplace_back("loss", format_number(eval.mean_loss));
    return report;
  }

 private:
  double chance_accuracy_ = 0.0;  // always predicting the held-out set's most common class
};

}  // namespace

std::unique_ptr<Task> make_classify_task(const TaskOptions& options) {
  return std::make_unique<ClassifyTask>(options);
}

TaskEntry classify_task_entry() { return {"classify", {"lstm", 64, 1000, 20, 1e-2, 1.0, "general", 1, "cosine", 1}, make_classify_task}; }

}  // namespace gpurnn::train::tasks
