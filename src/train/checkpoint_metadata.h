#pragma once
// What guards a checkpoint's metadata and data: strict parsing of its numbers (plain decimals in
// range; Error(io_error) naming the file, the key and the text) and the content checksum that
// save_checkpoint records and every reader verifies.
//
// Format versions: metadata "format_version" (absent: 1, files written before it) — 2 adds
// "checksum", a 64-bit FNV-1a hash of the data section (every tensor's bytes in file order),
// written "fnv1a64:" and 16 lowercase hex digits. It depends on the bytes alone, so a resumed run
// writes the same file as an uninterrupted one. 3 adds the data record (Task::data_record, as
// "data.*": the source file's path, size and content hash, or the built-in generator; timeseries'
// mean and std), charlm's byte-to-id table ("task.vocab") and timeseries' "task.horizon". 4 adds
// timeseries' AR skip ("task.ar_skip", "task.ar_skip_scale", when trained with it): such a model
// predicts the AR's residual, so a build that ignored them would forecast wrong; it refuses the
// newer version instead. Older files still load; whoever needs a field they lack says so
// (gpurnn generate, forecast); a timeseries file without task.ar_skip was trained without it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "gpurnn/io/safetensors.h"

namespace gpurnn::train::checkpoint_detail {

// The format_version this build writes and the newest it reads.
constexpr std::int64_t kFormatVersion = 4;

// `text` as a plain decimal integer ('-' and digits; no sign, space or leading '+') in
// [min, max]; Error(io_error) "checkpoint 'PATH': metadata 'KEY' is 'TEXT', expected an integer in
// [min, max]" otherwise.
std::int64_t parse_int(const std::string& path, const std::string& key, const std::string& text, std::int64_t min,
                       std::int64_t max);
// The same for [0, 2^64 - 1] (the seed).
std::uint64_t parse_uint64(const std::string& path, const std::string& key, const std::string& text);
// `text` as a finite decimal number (digits, '.', an exponent; no spaces, hex, inf or nan).
double parse_number(const std::string& path, const std::string& key, const std::string& text);
// The same rule without the error: nullopt when `text` is not such a number (for a setting that
// holds several numbers and names them as a whole when one is wrong).
std::optional<double> plain_decimal(const std::string& text);

// 64-bit FNV-1a, fed piece by piece.
class ContentHash {
 public:
  void add(const void* data, std::size_t bytes);
  std::string text() const;  // "fnv1a64:<16 hex digits>"

 private:
  std::uint64_t state_ = 0xcbf29ce484222325ULL;
};

// The checksum text of `file`'s data section (its tensors' stored bytes in data-offset order).
std::string data_checksum(const io::SafetensorsReader& file);

// Checks "format_version" (an integer in [1, kFormatVersion]) and, where there is one (required
// from version 2), the checksum. Error(io_error) naming the file: "checksum mismatch: the file was
// changed or corrupted" when the data does not hash to it.
void verify_content(const io::SafetensorsReader& file);

}  // namespace gpurnn::train::checkpoint_detail
