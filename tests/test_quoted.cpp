// detail::quoted and detail::escaped: untrusted text in messages (issue 34, item 6). Control
// bytes and invalid UTF-8 come out as escapes, valid UTF-8 as itself, and long text is cut at a
// character boundary with a count of what was cut.
#include <gtest/gtest.h>

#include <string>

#include "core/quoted.h"

namespace gpurnn::detail {
namespace {

bool printable(const std::string& text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

TEST(Quoted, PlainTextIsQuotedAsIs) {
  EXPECT_EQ(detail::quoted("weight_ih_l0"), "'weight_ih_l0'");
  EXPECT_EQ(detail::quoted(""), "''");
  EXPECT_EQ(detail::quoted("caf\xc3\xa9 \xe6\x97\xa5\xf0\x9f\x98\x80"), "'caf\xc3\xa9 \xe6\x97\xa5\xf0\x9f\x98\x80'");
}

TEST(Quoted, TerminalEscapesAreEscaped) {
  const std::string evil = "\x1b[2J\x1b[31mEVIL\x1b]0;owned\a";
  const std::string q = detail::quoted(evil);
  EXPECT_EQ(q, "'\\x1b[2J\\x1b[31mEVIL\\x1b]0;owned\\x07'");
  EXPECT_TRUE(printable(q));
  EXPECT_EQ(detail::quoted(std::string("a\0b\n\r\t\x7f", 7)), "'a\\x00b\\n\\r\\t\\x7f'");
  EXPECT_EQ(detail::quoted("it's a \\"), "'it\\'s a \\\\'");
  // C1 controls (U+009B is CSI on some terminals) and bidirectional overrides.
  EXPECT_EQ(detail::quoted("\xc2\x9b" "2J"), "'\\u{009b}2J'");
  EXPECT_EQ(detail::quoted("a\xe2\x80\xae" "b"), "'a\\u{202e}b'");
}

TEST(Quoted, InvalidUtf8BytesAreEscaped) {
  EXPECT_EQ(detail::quoted("\xff\xfe"), "'\\xff\\xfe'");
  EXPECT_EQ(detail::quoted("\x80x"), "'\\x80x'");                   // a stray continuation byte
  EXPECT_EQ(detail::quoted("\xc3"), "'\\xc3'");                     // a truncated sequence
  EXPECT_EQ(detail::quoted("\xc0\xaf"), "'\\xc0\\xaf'");            // an overlong '/'
  EXPECT_EQ(detail::quoted("\xed\xa0\x80"), "'\\xed\\xa0\\x80'");   // an encoded surrogate
  EXPECT_EQ(detail::quoted("\xf4\x90\x80\x80"), "'\\xf4\\x90\\x80\\x80'");  // past U+10FFFF
}

TEST(Quoted, LongTextIsCutWithACount) {
  const std::string name(50000000, 'a');
  const std::string q = detail::quoted(name);
  EXPECT_EQ(q, "'" + std::string(80, 'a') + "'...(49999920 more bytes)");
  EXPECT_EQ(detail::quoted("abcdef", 3), "'abc'...(3 more bytes)");
  // Never half a character: a 3-byte character that does not fit is cut whole.
  EXPECT_EQ(detail::quoted("ab\xe6\x97\xa5z", 4), "'ab'...(4 more bytes)");
  EXPECT_EQ(detail::quoted("abc", 3), "'abc'");
}

TEST(Quoted, EscapedHasNoQuotes) {
  EXPECT_EQ(escaped("last read: 'x\x1b'"), "last read: 'x\\x1b'");
  EXPECT_EQ(escaped(std::string(100, 'b'), 10), std::string(10, 'b') + "...(90 more bytes)");
}

}  // namespace
}  // namespace gpurnn::detail
