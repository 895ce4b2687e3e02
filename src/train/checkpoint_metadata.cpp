// Strict numbers and the content checksum of checkpoints (see checkpoint_metadata.h).

#include "train/checkpoint_metadata.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "core/quoted.h"
#include "gpurnn/error.h"

namespace gpurnn::train::checkpoint_detail {
namespace {

[[noreturn]] void refuse(const std::string& path, const std::string& key, const std::string& text,
                         const std::string& expected) {
  throw Error(ErrorCode::io_error, "checkpoint '" + path + "': metadata " + detail::quoted(key) + " is " +
                                       detail::quoted(text) + ", expected " + expected);
}

bool all_digits(const std::string& text, std::size_t first) {
  if (first >= text.size()) return false;
  for (std::size_t i = first; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  return true;
}

template <class Int>
bool parse_decimal(const std::string& text, Int& value) {
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value, 10);
  return ec == std::errc() && ptr == end;
}

}  // namespace

std::int64_t parse_int(const std::string& path, const std::string& key, const std::string& text, std::int64_t min,
                       std::int64_t max) {
  const std::string expected = "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  const bool negative = !text.empty() && text.front() == '-';
  std::int64_t v = 0;
  if (!all_digits(text, negative ? 1 : 0) || !parse_decimal(text, v) || v < min || v > max) {
    refuse(path, key, text, expected);
  }
  return v;
}

std::uint64_t parse_uint64(const std::string& path, const std::string& key, const std::string& text) {
  std::uint64_t v = 0;
  if (!all_digits(text, 0) || !parse_decimal(text, v)) {
    refuse(path, key, text, "an integer in [0, " + std::to_string(std::numeric_limits<std::uint64_t>::max()) + "]");
  }
  return v;
}

std::optional<double> plain_decimal(const std::string& text) {
  // strtod alone would also take leading spaces, hex, "inf" and "nan".
  bool plain = !text.empty();
  for (char ch : text) {
    plain = plain && ((ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '+' || ch == 'e' || ch == 'E');
  }
  if (!plain || text.front() == '+') return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(v)) return std::nullopt;
  return v;
}

double parse_number(const std::string& path, const std::string& key, const std::string& text) {
  if (const std::optional<double> v = plain_decimal(text)) return *v;
  refuse(path, key, text, "a number (a finite decimal)");
}

void ContentHash::add(const void* data, std::size_t bytes) {
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint64_t h = state_;
  for (std::size_t i = 0; i < bytes; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  state_ = h;
}

std::string ContentHash::text() const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "fnv1a64:%016llx", static_cast<unsigned long long>(state_));
  return buf;
}

std::string data_checksum(const io::SafetensorsReader& file) {
  ContentHash hash;
  for (const io::SafetensorsRecord& r : file.records()) {
    if (r.begin == r.end) continue;
    const Tensor t = file.read(r.name);  // a checkpoint's dtypes are read as stored
    hash.add(t.data(), t.bytes());
  }
  return hash.text();
}

void verify_content(const io::SafetensorsReader& file) {
  const auto& meta = file.metadata();
  const auto version_entry = meta.find("format_version");
  const std::int64_t version = version_entry == meta.end()
                                   ? 1
                                   : parse_int(file.origin(), "format_version", version_entry->second, 1,
                                               std::numeric_limits<std::int64_t>::max());
  if (version > kFormatVersion) {
    throw Error(ErrorCode::io_error, "checkpoint '" + file.origin() + "' has format_version " +
                                         std::to_string(version) + ", newer than this gpurnn reads (" +
                                         std::to_string(kFormatVersion) + "); use a newer gpurnn");
  }
  const auto stated = meta.find("checksum");
  if (stated == meta.end()) {
    if (version >= 2) {
      throw Error(ErrorCode::io_error, "checkpoint '" + file.origin() + "' has format_version " +
                                           std::to_string(version) +
                                           " but no metadata 'checksum': the file was changed or corrupted");
    }
    return;  // written before checksums were
  }
  const std::string actual = data_checksum(file);
  if (stated->second.rfind("fnv1a64:", 0) != 0 || stated->second.size() != actual.size()) {
    throw Error(ErrorCode::io_error, "checkpoint '" + file.origin() + "': metadata 'checksum' is " +
                                         detail::quoted(stated->second) + ", expected 'fnv1a64:' and 16 hex digits");
  }
  if (stated->second != actual) {
    throw Error(ErrorCode::io_error, "checkpoint '" + file.origin() +
                                         "': checksum mismatch: the file was changed or corrupted (its data hashes to " +
                                         actual + ", its metadata says " + detail::quoted(stated->second) + ")");
  }
}

}  // namespace gpurnn::train::checkpoint_detail
