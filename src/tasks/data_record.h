#pragma once
// The pieces of a task's data record (Task::data_record: what a checkpoint stores as "data.*")
// and of charlm's vocabulary setting, written and read back in one place.

#include <cstdint>
#include <optional>
#include <string>

#include "tasks/task_support.h"

namespace gpurnn::train::tasks {

// A file the task read: source=file, path (absolute, so a resume from another directory finds
// it), bytes, hash (ContentHash text of the whole file).
Report file_record(const std::string& path, std::uint64_t bytes, const std::string& hash);

// charlm's byte-to-id table as the setting "vocab": the byte of each id, in id order, as two
// lowercase hex digits ("0a20" is id 0 = '\n', id 1 = ' ').
std::string vocabulary_text(const std::string& bytes);
// The bytes of `text` written by vocabulary_text; nullopt when it is not such a text (odd length,
// a non-hex digit, bytes not strictly increasing, empty).
std::optional<std::string> parse_vocabulary(const std::string& text);

// A number as text that reads back as the same double ("%.17g").
std::string exact_number(double value);

}  // namespace gpurnn::train::tasks
