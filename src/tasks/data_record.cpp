#include "tasks/data_record.h"

#include <cstdio>
#include <filesystem>
#include <system_error>

namespace gpurnn::train::tasks {

Report file_record(const std::string& path, std::uint64_t bytes, const std::string& hash) {
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  return {{"source", "file"},
          {"path", ec ? path : absolute.lexically_normal().string()},
          {"bytes", std::to_string(bytes)},
          {"hash", hash}};
}

std::string vocabulary_text(const std::string& bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string text;
  for (unsigned char byte : bytes) {
    text += kDigits[byte >> 4];
    text += kDigits[byte & 15];
  }
  return text;
}

std::optional<std::string> parse_vocabulary(const std::string& text) {
  const auto digit = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (text.empty() || text.size() % 2 != 0 || text.size() > 512) return std::nullopt;
  std::string bytes;
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int high = digit(text[i]), low = digit(text[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    const int byte = high * 16 + low;
    // charlm numbers the bytes in byte order: anything else is not its table.
    if (!bytes.empty() && byte <= static_cast<unsigned char>(bytes.back())) return std::nullopt;
    bytes += static_cast<char>(byte);
  }
  return bytes;
}

std::string exact_number(double value) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", value);
  return buf;
}

}  // namespace gpurnn::train::tasks
