// detail::quoted (see quoted.h): one pass over the bytes, decoding UTF-8 strictly.
#include "core/quoted.h"

#include <cstdint>

namespace gpurnn::detail {
namespace {

const char kHex[] = "0123456789abcdef";

void put_hex_byte(std::string& out, unsigned char byte) {
  out += "\\x";
  out += kHex[byte >> 4];
  out += kHex[byte & 0xf];
}

// The length of the valid UTF-8 sequence starting at text[i] (2-4), and its code point, or 0
// when the bytes there are not a valid sequence of two or more bytes.
std::size_t utf8_sequence(std::string_view text, std::size_t i, std::uint32_t& code_point) {
  const auto lead = static_cast<unsigned char>(text[i]);
  std::size_t length = 0;
  std::uint32_t min = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2, min = 0x80, code_point = lead & 0x1fu;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3, min = 0x800, code_point = lead & 0x0fu;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4, min = 0x10000, code_point = lead & 0x07u;
  } else {
    return 0;  // ASCII, a continuation byte, or a lead byte no valid sequence has (c0, c1, f5-ff)
  }
  if (text.size() - i < length) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    const auto byte = static_cast<unsigned char>(text[i + k]);
    if ((byte & 0xc0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte & 0x3fu);
  }
  if (code_point < min || code_point > 0x10ffff || (code_point >= 0xd800 && code_point <= 0xdfff)) return 0;
  return length;
}

bool acts_on_terminal(std::uint32_t code_point) {
  return (code_point >= 0x80 && code_point <= 0x9f) || (code_point >= 0x202a && code_point <= 0x202e) ||
         (code_point >= 0x2066 && code_point <= 0x2069);
}

// Appends the escaped text to `out` and returns how many bytes of `text` it shows.
std::size_t append_escaped(std::string_view text, std::size_t max_bytes, bool escape_quote, std::string& out) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    std::size_t length = 1;
    std::uint32_t code_point = 0;
    if (byte >= 0x80) length = utf8_sequence(text, i, code_point);
    if (i + (length == 0 ? 1 : length) > max_bytes) break;  // never half a character
    if (byte < 0x80) {
      switch (byte) {
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\\': out += "\\\\"; break;
        case '\'': out += escape_quote ? "\\'" : "'"; break;
        default:
          if (byte < 0x20 || byte == 0x7f) {
            put_hex_byte(out, byte);
          } else {
            out += static_cast<char>(byte);
          }
      }
    } else if (length == 0) {
      put_hex_byte(out, byte);
      length = 1;
    } else if (acts_on_terminal(code_point)) {
      out += "\\u{";
      for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(code_point >> shift) & 0xf];
      out += '}';
    } else {
      out.append(text.data() + i, length);
    }
    i += length;
  }
  return i;
}

std::string cut_note(std::size_t cut) { return "...(" + std::to_string(cut) + " more bytes)"; }

}  // namespace

std::string quoted(std::string_view text, std::size_t max_bytes) {
  std::string out = "'";
  const std::size_t shown = append_escaped(text, max_bytes, true, out);
  out += '\'';
  if (shown < text.size()) out += cut_note(text.size() - shown);
  return out;
}

std::string escaped(std::string_view text, std::size_t max_bytes) {
  std::string out;
  const std::size_t shown = append_escaped(text, max_bytes, false, out);
  if (shown < text.size()) out += cut_note(text.size() - shown);
  return out;
}

}  // namespace gpurnn::detail
