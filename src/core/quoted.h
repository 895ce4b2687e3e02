#pragma once
// Text from outside the program (a tensor name, a metadata value, a CSV cell, a line of input)
// made safe to put into an error or warning message: a terminal shows it as text and never acts
// on it, and a huge value cannot make a huge message.

#include <cstddef>
#include <string>
#include <string_view>

namespace gpurnn::detail {

// How many bytes of a value a message shows by default.
constexpr std::size_t kQuotedBytes = 80;

// `text` in single quotes, escaped so that every byte of the result is printable ASCII or part
// of a printable UTF-8 character:
//   \n \r \t, and \\ and \' for the backslash and the quote themselves;
//   \xNN for any other control byte (0x00-0x1f, 0x7f: "\x1b" for ESC) and for each byte that is
//        not part of valid UTF-8 (a stray continuation byte, a truncated or overlong sequence,
//        an encoded surrogate, a code point past U+10FFFF);
//   \u{NNNN} for the C1 controls (U+0080-U+009F, which some terminals obey like ESC [) and the
//        bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069).
// At most `max_bytes` bytes of `text` are shown (never half a UTF-8 character); the rest is
// counted after the closing quote: 'abc...'...(49999920 more bytes).
// Call it qualified (detail::quoted): for a std::string argument an unqualified call also finds
// std::quoted (<iomanip>) by argument-dependent lookup, and that one wins.
std::string quoted(std::string_view text, std::size_t max_bytes = kQuotedBytes);

// The same without the quotes, for text that is a message or a phrase itself (a parser's own
// error message, which quotes what it read): \' stays ', and the count of what was cut follows
// "...": "syntax error ... last read: 'aaa...(49999920 more bytes)".
std::string escaped(std::string_view text, std::size_t max_bytes = kQuotedBytes);

}  // namespace gpurnn::detail
