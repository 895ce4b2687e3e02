#include "cli/train_data.h"

#include <filesystem>
#include <map>
#include <system_error>

#include "cli/train_resume.h"
#include "core/quoted.h"
#include "gpurnn/error.h"
#include "tasks/data_record.h"

namespace gpurnn::cli {
namespace {

constexpr std::size_t kMaxPathBytes = 4096;  // PATH_MAX

const std::string* find(const std::map<std::string, std::string>& meta, const std::string& key) {
  const auto it = meta.find(key);
  return it == meta.end() ? nullptr : &it->second;
}

std::string value_or(const std::map<std::string, std::string>& meta, const std::string& key, const std::string& fallback) {
  const std::string* value = find(meta, key);
  return value ? *value : fallback;
}

// The data flag of a task that reads a file.
const char* data_flag(const std::string& task) { return task == "timeseries" ? "--csv" : "--text"; }

// A recorded path, read as untrusted input: this build records absolute paths; anything with a
// control byte (a NUL would cut the path short at open) or longer than PATH_MAX is refused.
std::string recorded_path(const std::string& checkpoint, const std::string& text) {
  bool plain = !text.empty() && text.size() <= kMaxPathBytes && text.front() == '/';
  for (unsigned char c : text) plain = plain && c >= 0x20 && c != 0x7f;
  if (!plain) {
    throw Error(ErrorCode::io_error, "checkpoint '" + checkpoint + "': metadata 'data.path' is " +
                                         detail::quoted(text) +
                                         ", expected an absolute file path (no control bytes, at most 4096 bytes)");
  }
  return text;
}

// "'/data/a.csv' (1,234 bytes, fnv1a64:...)" or "the built-in ... (fnv1a64:...)", of a record.
std::string describe_source(const std::map<std::string, std::string>& record) {
  const std::string hash = value_or(record, "hash", "no hash recorded");
  if (value_or(record, "source", "") == "file") {
    return detail::quoted(value_or(record, "path", "")) + " (" + value_or(record, "bytes", "?") + " bytes, " + hash +
           ")";
  }
  return "the built-in " + detail::escaped(value_or(record, "generator", "data")) + " (" + hash + ")";
}

// The first id whose byte differs between two byte-to-id tables, in words.
std::string first_difference(const std::string& stored, const std::string& now) {
  for (std::size_t id = 0; id < stored.size() || id < now.size(); ++id) {
    const auto byte = [&](const std::string& table) {
      return id < table.size() ? detail::quoted(table.substr(id, 1)) : std::string("nothing");
    };
    if (id >= stored.size() || id >= now.size() || stored[id] != now[id]) {
      return "id " + std::to_string(id) + " is byte " + byte(stored) + " there and " + byte(now) + " here";
    }
  }
  return "";
}

void check_vocabulary(const TrainOptions& o, const train::CheckpointInfo& resumed, const train::Task& task,
                      const std::string& data) {
  const std::string* stored = find(resumed.metadata, "task.vocab");
  if (stored == nullptr) return;
  for (const auto& [key, value] : task.settings()) {
    if (key != "vocab" || value == *stored) continue;
    const auto stored_bytes = train::tasks::parse_vocabulary(*stored);
    const auto bytes = train::tasks::parse_vocabulary(value);
    const std::string why = stored_bytes && bytes ? ": " + first_difference(*stored_bytes, *bytes)
                                                  : " (its metadata 'task.vocab' is " + detail::quoted(*stored) + ")";
    throw Error(ErrorCode::invalid_argument,
                data + " maps bytes to ids differently from the checkpoint " + o.resume + " (" +
                    std::to_string(stored_bytes ? stored_bytes->size() : 0) + " symbols there, " +
                    std::to_string(bytes ? bytes->size() : 0) + " here)" + why +
                    "; the model would read every byte as another (a resumed run continues the checkpoint's data; "
                    "train without --resume to use other data)");
  }
}

}  // namespace

void resolve_data_flags(const TrainOptions& o, const train::CheckpointInfo& resumed, train::TaskOptions& task) {
  task.text_path = o.text;
  task.csv_path = o.csv;
  task.csv_column = o.column;
  if (o.resume.empty()) return;
  const auto& meta = resumed.metadata;
  const bool series = resumed.task == "timeseries";
  if (series && !o.csv.empty() && o.column.empty()) task.csv_column = value_or(meta, "data.column", "");
  if (!o.text.empty() || !o.csv.empty()) return;  // given data: checked once the task has read it
  if (value_or(meta, "data.source", "") != "file") return;  // built-in, or not recorded
  if (resumed.task == "video") {  // three files: given again (checked once the task has read them)
    if (!o.video.empty()) return;
    throw Error(ErrorCode::invalid_argument,
                "the checkpoint " + o.resume + " was trained on the clips of --video " +
                    detail::quoted(value_or(meta, "data.path", "")) +
                    ": give --video, --lengths and --labels again to resume it");
  }
  const std::string path = recorded_path(o.resume, value_or(meta, "data.path", ""));
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw Error(ErrorCode::invalid_argument,
                "the checkpoint " + o.resume + " was trained on " +
                    describe_source({{"source", "file"},
                                     {"path", path},
                                     {"bytes", value_or(meta, "data.bytes", "?")},
                                     {"hash", value_or(meta, "data.hash", "no hash recorded")}}) +
                    ", which is not there now: give " + data_flag(resumed.task) + " FILE with that content");
  }
  if (series) {
    task.csv_path = path;
    task.csv_column = value_or(meta, "data.column", "");
  } else {
    task.text_path = path;
  }
}

std::string check_resumed_data(const TrainOptions& o, const train::CheckpointInfo& resumed, const train::Task& task) {
  if (o.resume.empty()) return "";
  const auto& meta = resumed.metadata;
  const std::string flag = data_flag(resumed.task);
  const std::string given = resumed.task == "timeseries" ? o.csv : o.text;
  const std::string data = given.empty() ? "this run's data" : flag + " " + given;
  check_vocabulary(o, resumed, task, data);
  std::map<std::string, std::string> now;
  for (const auto& [key, value] : task.data_record()) now[key] = value;
  std::map<std::string, std::string> stored;
  for (const auto& [key, value] : meta) {
    if (key.rfind("data.", 0) == 0) stored[key.substr(5)] = value;
  }
  if (stored.count("source") == 0) {
    // An older checkpoint: charlm's vocabulary size is all there is to compare (it was reported
    // as a mismatch of input_size, without saying that --text was missing).
    const train::ModelInterface io = task.interface();
    if (resumed.model_kind == "sequence" && io.input == train::InputKind::tokens &&
        io.input_size != resumed.model.io.input_size) {
      throw Error(ErrorCode::invalid_argument,
                  "the checkpoint " + o.resume + " was trained on data of " +
                      std::to_string(resumed.model.io.input_size) + " symbols, and " + data + " has " +
                      std::to_string(io.input_size) + ": give the " + flag +
                      " FILE it was trained on (it was written by an older gpurnn, which did not record it)");
    }
    if (now.empty()) return "";
    return "note: the checkpoint " + o.resume +
           " records no data source (an older gpurnn wrote it): this run's data cannot be checked against it";
  }
  const bool same_source = value_or(now, "source", "") == stored["source"];
  if (!same_source || value_or(now, "hash", "") != value_or(stored, "hash", "")) {
    const bool same_path = same_source && stored["source"] == "file" && now["path"] == stored["path"];
    if (same_path) {
      throw Error(ErrorCode::invalid_argument,
                  detail::quoted(now["path"]) + " has changed since the checkpoint " + o.resume +
                      " was written: it was " + value_or(stored, "bytes", "?") + " bytes, " +
                      value_or(stored, "hash", "no hash recorded") + " then, and is " + now["bytes"] + " bytes, " +
                      now["hash"] + " now (a resumed run continues the checkpoint's data; train without --resume to "
                      "use other data)");
    }
    throw Error(ErrorCode::invalid_argument,
                data + " is not the data of the checkpoint " + o.resume + ": it was trained on " +
                    describe_source(stored) + ", and this run reads " + describe_source(now) +
                    " (a resumed run continues the checkpoint's data; train without --resume to use other data)");
  }
  if (stored.count("column") && now.count("column") && stored["column"] != now["column"]) {
    throw Error(ErrorCode::invalid_argument, "--column " + detail::escaped(now["column"]) +
                                                 " does not match the checkpoint " + o.resume +
                                                 ", which was trained on column " + detail::quoted(stored["column"]));
  }
  return "";
}

std::string shell_word(const std::string& text) {
  bool plain = !text.empty();
  for (unsigned char c : text) {
    plain = plain && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      std::string("_-./:=@%+,").find(static_cast<char>(c)) != std::string::npos);
  }
  if (plain) return text;
  std::string word = "'";
  for (char c : text) word += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return word + "'";
}

std::string continue_command(const TrainOptions& o, const train::TaskOptions& data) {
  std::string command = "gpurnn train --resume " + shell_word(o.save) + " --save " + shell_word(o.save);
  if (!data.text_path.empty()) command += " --text " + shell_word(data.text_path);
  if (!data.csv_path.empty()) {
    command += " --csv " + shell_word(data.csv_path) + " --column " + shell_word(data.csv_column);
  }
  if (!data.video_path.empty()) {
    command += " --video " + shell_word(data.video_path) + " --labels " + shell_word(data.labels_path);
    if (!data.lengths_path.empty()) command += " --lengths " + shell_word(data.lengths_path);
  }
  // The flags a checkpoint does not record (the task, the architecture, the data settings, the
  // seed, the schedule and the dropout it does, and a resume takes them from it).
  const std::pair<const char*, std::string> unrecorded[] = {
      {"--device", o.device},
      {"--threads", std::to_string(o.threads)},
      {"--optimizer", o.optimizer},
      {"--momentum", train::tasks::exact_number(o.momentum)},
      {"--weight-decay", train::tasks::exact_number(o.weight_decay)},
      {"--clip", train::tasks::exact_number(o.clip)},
      {"--save-every", std::to_string(o.save_every)},
      {"--eval-batches", std::to_string(o.eval_batches)},
      {"--sample", std::to_string(o.sample)},
      {"--temperature", train::tasks::exact_number(o.temperature)},
      {"--beam", std::to_string(o.beam)},
      {"--length-penalty", train::tasks::exact_number(o.length_penalty)},
      {"--eval-examples", std::to_string(o.eval_examples)},
      {"--progress", o.progress},
  };
  for (const auto& [flag, value] : unrecorded) {
    if (was_given(o, flag)) command += std::string(" ") + flag + " " + shell_word(value);
  }
  return command;
}

}  // namespace gpurnn::cli
