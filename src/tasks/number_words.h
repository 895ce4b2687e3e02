#pragma once
// English number words and the translate task's examples: numbers and dates written in words
// (source) to be normalised into digits (target).
//
// Source tokens are the words split at spaces and at hyphens: "twenty-first" is the two
// tokens "twenty", "first"; "four thousand two hundred and seven" is six tokens.

#include <cstdint>
#include <string>
#include <vector>

namespace gpurnn::train {

// British English words for n in [0, 999,999,999]: 4207 -> "four thousand two hundred and
// seven", 110 -> "one hundred and ten", 1005 -> "one thousand and five", 21 -> "twenty-one",
// 0 -> "zero", 1000000 -> "one million". "and" follows "hundred" when more follows, and comes
// before a last group under 100 that follows "thousand" or "million". Error(invalid_argument)
// outside the range.
std::string number_to_words(std::int64_t n);

// The ordinal of a day of the month, n in [1, 31]: "first", "second", ..., "twenty-first",
// "thirty-first". Error(invalid_argument) outside the range.
std::string ordinal_words(int n);

// "january" .. "december" for month 1 .. 12. Error(invalid_argument) outside the range.
const char* month_name(int month);

// One example of the translate task: the source tokens and the normalised target.
struct TranslatePair {
  std::vector<std::string> source;
  std::string target;
};

// Example `index` of the stream `seed`: a pure function of (seed, index). Half the examples
// (by a coin per example) are numbers, half dates:
//  - a number: its digit count uniform in 1..6, then the value uniform among numbers of that
//    many digits (0..9 for one digit); source number_to_words(value), target the digits
//    ("four thousand two hundred and seven" -> "4207");
//  - a date: uniform over the days from 1900-01-01 to 2099-12-31, written in one of five
//    layouts ("the fourteenth of march Y", "march fourteenth Y", "march the fourteenth Y",
//    "fourteen march Y", "fourteenth march Y") with the year Y paired ("nineteen ninety-nine",
//    "nineteen oh five", "nineteen hundred", "twenty seventeen") or, for 2000..2099 with equal
//    chances, "two thousand and seventeen" or "two thousand seventeen" (2000: "two thousand");
//    target ISO 8601 ("2017-03-14").
TranslatePair translate_pair(std::uint64_t seed, std::uint64_t index);

// Every token translate_pair can emit, sorted, without duplicates.
const std::vector<std::string>& translate_source_vocabulary();

// Every character a target can hold: "-0123456789".
const std::string& translate_target_alphabet();

}  // namespace gpurnn::train
