#include "cli/saved_model.h"

#include "cli/device_choice.h"
#include "core/quoted.h"
#include "core/thread_count.h"
#include "gpurnn/error.h"

namespace gpurnn::cli {

SavedModel load_saved_model(const std::string& path, const std::string& task, const std::string& command,
                            const std::string& other, const std::string& device, int threads) {
  check_argument(!path.empty(), command.c_str(), "--checkpoint", "is required: a checkpoint of gpurnn train " + task);
  SavedModel saved;
  saved.path = path;
  saved.info = train::read_checkpoint_info(path);
  if (saved.info.task != task || saved.info.model_kind != "sequence") {
    throw Error(ErrorCode::invalid_argument, "--checkpoint " + path + ": holds a model of task " +
                                                 detail::quoted(saved.info.task) + "; " + command + " uses " + task +
                                                 " checkpoints (" + other + ")");
  }
  detail::check_thread_count(threads, command.c_str(), "--threads");
  train::ModelConfig config = saved.info.model;
  saved.device = to_string(resolve_device(device));
  config.backend = saved.device;
  config.threads = threads;
  saved.model = std::make_unique<train::SequenceModel>(config);
  train::load_model_parameters(path, *saved.model);
  return saved;
}

const std::string& required_metadata(const SavedModel& saved, const std::string& key, const std::string& what) {
  const auto it = saved.info.metadata.find(key);
  if (it != saved.info.metadata.end()) return it->second;
  const auto version = saved.info.metadata.find("format_version");
  throw Error(ErrorCode::invalid_argument,
              "--checkpoint " + saved.path + " (format_version " +
                  (version == saved.info.metadata.end() ? std::string("1") : detail::escaped(version->second)) +
                  ") records no " + what + " (metadata '" + key +
                  "'): an older gpurnn wrote it; resume it with this gpurnn for one more step (gpurnn train --resume " +
                  saved.path + " --steps N --save NEW, with the data flag it was trained with) and use the new "
                  "checkpoint, which records it");
}

}  // namespace gpurnn::cli
