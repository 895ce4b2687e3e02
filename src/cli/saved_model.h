#pragma once
// A sequence model of `gpurnn train` loaded from its checkpoint to be used (gpurnn generate,
// forecast): the checkpoint's task checked, the model built from its metadata on the chosen
// device and its parameters read.

#include <memory>
#include <string>

#include "gpurnn/train/model.h"
#include "gpurnn/train/trainer.h"

namespace gpurnn::cli {

struct SavedModel {
  std::string path;
  train::CheckpointInfo info;
  std::unique_ptr<train::SequenceModel> model;
  std::string device;  // the device it runs on, e.g. "cpu", "virtual:0"
};

// Error(invalid_argument) naming --checkpoint and both tasks when the checkpoint is not of
// `task`; `command` ("gpurnn generate") and `other` (what to use for other tasks) word it.
SavedModel load_saved_model(const std::string& path, const std::string& task, const std::string& command,
                            const std::string& other, const std::string& device, int threads);

// The checkpoint's metadata `key`; when it is missing, Error(invalid_argument) naming the file,
// its format_version, `what` it lacks, and how to get a checkpoint that has it.
const std::string& required_metadata(const SavedModel& saved, const std::string& key, const std::string& what);

}  // namespace gpurnn::cli
