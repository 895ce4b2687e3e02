// Number words, ordinals and the translate task's pairs: hand-checked words, and every
// generated pair read back by parsers written here (numbers and dates) to its target.
#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "test_support.h"
#include "tasks/number_words.h"

namespace gpurnn::testing {
namespace {

using train::month_name;
using train::number_to_words;
using train::ordinal_words;
using train::translate_pair;
using Tokens = std::vector<std::string>;

const std::map<std::string, int>& cardinal_values() {
  static const std::map<std::string, int> values{
      {"zero", 0},      {"one", 1},       {"two", 2},        {"three", 3},     {"four", 4},
      {"five", 5},      {"six", 6},       {"seven", 7},      {"eight", 8},     {"nine", 9},
      {"ten", 10},      {"eleven", 11},   {"twelve", 12},    {"thirteen", 13}, {"fourteen", 14},
      {"fifteen", 15},  {"sixteen", 16},  {"seventeen", 17}, {"eighteen", 18}, {"nineteen", 19},
      {"twenty", 20},   {"thirty", 30},   {"forty", 40},     {"fifty", 50},    {"sixty", 60},
      {"seventy", 70},  {"eighty", 80},   {"ninety", 90}};
  return values;
}

const std::map<std::string, int>& ordinal_values() {
  static const std::map<std::string, int> values{
      {"first", 1},        {"second", 2},       {"third", 3},        {"fourth", 4},
      {"fifth", 5},        {"sixth", 6},        {"seventh", 7},      {"eighth", 8},
      {"ninth", 9},        {"tenth", 10},       {"eleventh", 11},    {"twelfth", 12},
      {"thirteenth", 13},  {"fourteenth", 14},  {"fifteenth", 15},   {"sixteenth", 16},
      {"seventeenth", 17}, {"eighteenth", 18},  {"nineteenth", 19},  {"twentieth", 20},
      {"thirtieth", 30}};
  return values;
}

// Words split at spaces and hyphens, as the generator's source tokens are.
Tokens split(const std::string& text) {
  std::string spaced = text;
  std::replace(spaced.begin(), spaced.end(), '-', ' ');
  std::istringstream in(spaced);
  Tokens tokens;
  for (std::string w; in >> w;) tokens.push_back(w);
  return tokens;
}

// Reads cardinal number words back: units and tens add, "hundred" multiplies the pending
// group, "thousand" and "million" close it, "and" is skipped. -1 for an unknown word.
std::int64_t parse_number(const Tokens& tokens) {
  std::int64_t total = 0, group = 0;
  for (const std::string& w : tokens) {
    if (w == "and") continue;
    if (w == "hundred") {
      group *= 100;
    } else if (w == "thousand") {
      total += group * 1000;
      group = 0;
    } else if (w == "million") {
      total += group * 1'000'000;
      group = 0;
    } else if (cardinal_values().count(w)) {
      group += cardinal_values().at(w);
    } else {
      return -1;
    }
  }
  return total + group;
}

// A year in words: "two thousand [and] X", "<century> hundred", "<century> oh X",
// "<century> X" with century nineteen or twenty.
int parse_year(const Tokens& words) {
  if (words.size() >= 2 && words[0] == "two" && words[1] == "thousand") {
    return 2000 + static_cast<int>(parse_number(Tokens(words.begin() + 2, words.end())));
  }
  const int century = cardinal_values().at(words.at(0));
  const Tokens rest(words.begin() + 1, words.end());
  if (rest == Tokens{"hundred"}) return century * 100;
  if (!rest.empty() && rest[0] == "oh") return century * 100 + cardinal_values().at(rest.at(1));
  return century * 100 + static_cast<int>(parse_number(rest));
}

// A day: cardinal or ordinal words, "the" and "of" skipped.
int parse_day(const Tokens& words) {
  int day = 0;
  for (const std::string& w : words) {
    if (w == "the" || w == "of") continue;
    day += ordinal_values().count(w) ? ordinal_values().at(w) : cardinal_values().at(w);
  }
  return day;
}

// Reads a date in any of the generator's layouts back to ISO: the month name splits it; a
// month-first date's day runs to its ordinal word.
std::string parse_date(const Tokens& tokens) {
  std::size_t at = 0;
  int month = 0;
  for (; at < tokens.size() && month == 0; ++at) {
    for (int m = 1; m <= 12; ++m) month = tokens[at] == month_name(m) ? m : month;
  }
  --at;
  int day = 0;
  Tokens year_words;
  if (at > 0) {
    day = parse_day(Tokens(tokens.begin(), tokens.begin() + at));
    year_words.assign(tokens.begin() + at + 1, tokens.end());
  } else {
    std::size_t end = 1;
    while (!ordinal_values().count(tokens.at(end))) ++end;
    day = parse_day(Tokens(tokens.begin() + 1, tokens.begin() + end + 1));
    year_words.assign(tokens.begin() + end + 1, tokens.end());
  }
  char iso[32];
  std::snprintf(iso, sizeof iso, "%04d-%02d-%02d", parse_year(year_words), month, day);
  return iso;
}

bool valid_iso_date(const std::string& date, int* year_out) {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return false;
  const int year = std::stoi(date.substr(0, 4)), month = std::stoi(date.substr(5, 2));
  const int day = std::stoi(date.substr(8, 2));
  const bool leap = year % 400 == 0 || (year % 4 == 0 && year % 100 != 0);
  const int lengths[] = {31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  *year_out = year;
  return year >= 1900 && year <= 2099 && month >= 1 && month <= 12 && day >= 1 &&
         day <= lengths[month - 1];
}

TEST(NumberWords, HandChecked) {
  const std::pair<std::int64_t, const char*> cases[] = {
      {0, "zero"},
      {7, "seven"},
      {13, "thirteen"},
      {20, "twenty"},
      {21, "twenty-one"},
      {100, "one hundred"},
      {101, "one hundred and one"},
      {110, "one hundred and ten"},
      {999, "nine hundred and ninety-nine"},
      {1000, "one thousand"},
      {1005, "one thousand and five"},
      {4207, "four thousand two hundred and seven"},
      {12345, "twelve thousand three hundred and forty-five"},
      {100000, "one hundred thousand"},
      {999999, "nine hundred and ninety-nine thousand nine hundred and ninety-nine"},
      {1000000, "one million"},
      {1000100, "one million one hundred"},
      {2000005, "two million and five"},
      {30040000, "thirty million forty thousand"},
      {999999999, "nine hundred and ninety-nine million nine hundred and ninety-nine thousand "
                  "nine hundred and ninety-nine"}};
  for (const auto& [n, words] : cases) EXPECT_EQ(number_to_words(n), words) << n;
  expect_error([] { number_to_words(-1); }, ErrorCode::invalid_argument,
               {"number_to_words", "n"});
  expect_error([] { number_to_words(1'000'000'000); }, ErrorCode::invalid_argument,
               {"number_to_words", "n"});
}

TEST(NumberWords, ParserReadsEveryThirteenthNumberBack) {
  int checked = 0;
  for (std::int64_t n = 0; n <= 999'999'999; n += n < 2'000'000 ? 13 : 999'983) {
    ASSERT_EQ(parse_number(split(number_to_words(n))), n) << number_to_words(n);
    ++checked;
  }
  EXPECT_GT(checked, 150'000);
}

TEST(NumberWords, OrdinalsAndMonths) {
  const char* expected[] = {"",
                            "first",         "second",        "third",         "fourth",
                            "fifth",         "sixth",         "seventh",       "eighth",
                            "ninth",         "tenth",         "eleventh",      "twelfth",
                            "thirteenth",    "fourteenth",    "fifteenth",     "sixteenth",
                            "seventeenth",   "eighteenth",    "nineteenth",    "twentieth",
                            "twenty-first",  "twenty-second", "twenty-third",  "twenty-fourth",
                            "twenty-fifth",  "twenty-sixth",  "twenty-seventh", "twenty-eighth",
                            "twenty-ninth",  "thirtieth",     "thirty-first"};
  for (int n = 1; n <= 31; ++n) EXPECT_EQ(ordinal_words(n), expected[n]) << n;
  EXPECT_STREQ(month_name(1), "january");
  EXPECT_STREQ(month_name(3), "march");
  EXPECT_STREQ(month_name(12), "december");
  expect_error([] { ordinal_words(0); }, ErrorCode::invalid_argument, {"ordinal_words", "n"});
  expect_error([] { ordinal_words(32); }, ErrorCode::invalid_argument, {"ordinal_words", "n"});
  expect_error([] { month_name(13); }, ErrorCode::invalid_argument, {"month_name", "month"});
}

TEST(TranslatePairs, EveryPairReadsBackToItsTargetInVocabularyAndAlphabet) {
  const Tokens& vocabulary = train::translate_source_vocabulary();
  ASSERT_TRUE(std::is_sorted(vocabulary.begin(), vocabulary.end()));
  ASSERT_EQ(std::set<std::string>(vocabulary.begin(), vocabulary.end()).size(), vocabulary.size());
  EXPECT_EQ(train::translate_target_alphabet(), "-0123456789");
  const std::set<std::string> known(vocabulary.begin(), vocabulary.end());
  std::set<std::string> used;
  int numbers = 0, dates = 0, leap_days = 0;
  std::set<int> digit_counts, years;
  const int kPairs = 20000;
  for (int i = 0; i < kPairs; ++i) {
    const train::TranslatePair pair = translate_pair(42, i);
    ASSERT_FALSE(pair.source.empty());
    for (const std::string& w : pair.source) {
      ASSERT_TRUE(known.count(w)) << "'" << w << "' is not in the vocabulary";
      used.insert(w);
    }
    ASSERT_FALSE(pair.target.empty());
    for (char c : pair.target) {
      ASSERT_NE(train::translate_target_alphabet().find(c), std::string::npos) << pair.target;
    }
    int year = 0;
    if (pair.target.find('-') == std::string::npos) {
      ++numbers;
      digit_counts.insert(static_cast<int>(pair.target.size()));
      ASSERT_TRUE(pair.target == "0" || pair.target[0] != '0') << pair.target;
      ASSERT_EQ(std::to_string(parse_number(pair.source)), pair.target) << i;
    } else {
      ++dates;
      ASSERT_TRUE(valid_iso_date(pair.target, &year)) << pair.target;
      years.insert(year);
      leap_days += pair.target.substr(5) == "02-29";
      ASSERT_EQ(parse_date(pair.source), pair.target) << i;
    }
  }
  // The kinds mixed evenly (binomial sd 71), every digit count, years across both centuries.
  EXPECT_NEAR(numbers, kPairs / 2, 400);
  EXPECT_EQ(numbers + dates, kPairs);
  EXPECT_EQ(digit_counts, (std::set<int>{1, 2, 3, 4, 5, 6}));
  EXPECT_GT(years.size(), 190u);
  EXPECT_GT(leap_days, 0);  // about 10000 * 49 / 73049 = 6.7 expected
  // The vocabulary is tight: every word in it is emitted.
  EXPECT_EQ(used, known);
}

TEST(TranslatePairs, PureFunctionOfSeedAndIndex) {
  int differing = 0, seed_differing = 0;
  for (std::uint64_t i = 0; i < 500; ++i) {
    const train::TranslatePair a = translate_pair(7, i), again = translate_pair(7, i);
    EXPECT_EQ(a.source, again.source);
    EXPECT_EQ(a.target, again.target);
    differing += translate_pair(7, i + 1).target != a.target;
    seed_differing += translate_pair(8, i).target != a.target;
  }
  EXPECT_GT(differing, 490);
  EXPECT_GT(seed_differing, 490);
}

TEST(TranslatePairs, EveryDateLayoutAndYearStyleAppears) {
  // Classifies the dates among 4000 pairs by layout and by year style (only a year holds
  // "thousand", "hundred" or "oh").
  std::map<std::string, int> seen;
  auto is_month = [](const std::string& w) {
    for (int m = 1; m <= 12; ++m) {
      if (w == month_name(m)) return true;
    }
    return false;
  };
  for (std::uint64_t i = 0; i < 4000; ++i) {
    const train::TranslatePair pair = translate_pair(3, i);
    if (pair.target.find('-') == std::string::npos) continue;
    const Tokens& s = pair.source;
    if (s[0] == "the") {
      ++seen["the D of M Y"];
    } else if (is_month(s[0])) {
      ++seen[s[1] == "the" ? "M the D Y" : "M D Y"];
    } else {
      const bool ordinal = ordinal_values().count(s[0]) || ordinal_values().count(s[1]);
      ++seen[ordinal ? "Dth M Y" : "D M Y"];
    }
    const std::set<std::string> words(s.begin(), s.end());
    if (words.count("thousand")) {
      ++seen[words.count("and") ? "two thousand and" : "two thousand"];
    } else if (words.count("hundred")) {
      ++seen["nineteen hundred"];
    } else if (words.count("oh")) {
      ++seen["oh"];
    } else {
      ++seen["paired"];
    }
  }
  for (const char* kind : {"the D of M Y", "M the D Y", "M D Y", "Dth M Y", "D M Y",
                           "two thousand and", "two thousand", "oh", "paired"}) {
    EXPECT_GT(seen[kind], 0) << kind;
  }
  // About 2000 dates: each layout about 400, "nineteen hundred" (1900-01-01..12-31) rare.
  EXPECT_NEAR(seen["M D Y"], 400, 100);
}

}  // namespace
}  // namespace gpurnn::testing
