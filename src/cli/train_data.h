#pragma once
// The data of `gpurnn train --resume`: what the checkpoint recorded of its data (Task::data_record,
// "data.*", and charlm's "task.vocab") against what this run reads, the recorded source reused when
// no data flag is given, and the command that continues a stopped run as printed on Ctrl-C.

#include <string>

#include "cli/commands.h"
#include "gpurnn/train/task.h"
#include "gpurnn/train/trainer.h"

namespace gpurnn::cli {

// The task's data files from --text, --csv and --column; resuming with none of them, the file the
// checkpoint recorded (its path is untrusted input: it must be an absolute path without control
// bytes, and is then read like --text or --csv), refused naming it and its hash when it is gone.
// A resumed timeseries run given --csv alone takes the recorded --column.
void resolve_data_flags(const TrainOptions& o, const train::CheckpointInfo& resumed, train::TaskOptions& task);

// Once the task has read its data: a resumed run's byte-to-id table (charlm) and data source
// (path, size and content hash, or the built-in generator's hash) must be the checkpoint's, and
// Error(invalid_argument) names the files and both hashes otherwise. A checkpoint that records no
// data (format_version below 3) is checked by its vocabulary size alone, and the returned note
// (empty otherwise) says its data cannot be checked.
std::string check_resumed_data(const TrainOptions& o, const train::CheckpointInfo& resumed, const train::Task& task);

// The command that continues a run whose checkpoint is being written to --save: --resume and
// --save that file, the data flags of a file source, and every flag given that a checkpoint does
// not record (--device, --optimizer, --clip, ...), each value shell-quoted where it needs it.
std::string continue_command(const TrainOptions& o, const train::TaskOptions& data);

// `text` as one shell word: itself when it holds only safe characters, else in single quotes.
std::string shell_word(const std::string& text);

}  // namespace gpurnn::cli
