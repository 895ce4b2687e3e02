#include "tasks/number_words.h"

#include <algorithm>
#include <set>

#include "gpurnn/error.h"
#include "tasks/counter_rng.h"

namespace gpurnn::train {
namespace {

constexpr const char* kUnits[] = {
    "zero",     "one",     "two",     "three",     "four",     "five",    "six",
    "seven",    "eight",   "nine",    "ten",       "eleven",   "twelve",  "thirteen",
    "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
constexpr const char* kTens[] = {"",      "",      "twenty",  "thirty", "forty",
                                 "fifty", "sixty", "seventy", "eighty", "ninety"};
constexpr const char* kUnitOrdinals[] = {
    "",           "first",      "second",     "third",       "fourth",     "fifth",
    "sixth",      "seventh",    "eighth",     "ninth",       "tenth",      "eleventh",
    "twelfth",    "thirteenth", "fourteenth", "fifteenth",   "sixteenth",  "seventeenth",
    "eighteenth", "nineteenth"};
constexpr const char* kMonths[] = {"january", "february", "march",     "april",
                                   "may",     "june",     "july",      "august",
                                   "september", "october", "november", "december"};

// 0..99.
std::string below_hundred(int n) {
  if (n < 20) return kUnits[n];
  return std::string(kTens[n / 10]) + (n % 10 ? std::string("-") + kUnits[n % 10] : "");
}

// 1..999.
std::string below_thousand(int n) {
  if (n < 100) return below_hundred(n);
  std::string words = std::string(kUnits[n / 100]) + " hundred";
  return n % 100 ? words + " and " + below_hundred(n % 100) : words;
}

bool is_leap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int days_in_month(int year, int month) {
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : kDays[month - 1];
}

constexpr int kFirstYear = 1900, kLastYear = 2099;

enum class YearStyle { paired, thousand_and, thousand };
constexpr YearStyle kYearStyles[] = {YearStyle::paired, YearStyle::thousand_and,
                                     YearStyle::thousand};

// A year of 1900..2099 in words; the thousand styles are for 2000..2099.
std::string year_words(int year, YearStyle style) {
  const int century = year / 100, rest = year % 100;
  if (year == 2000) return "two thousand";
  if (style == YearStyle::paired) {
    const std::string first = below_hundred(century);
    if (rest == 0) return first + " hundred";
    return first + (rest < 10 ? " oh " : " ") + below_hundred(rest);
  }
  return std::string("two thousand ") + (style == YearStyle::thousand_and ? "and " : "") +
         below_hundred(rest);
}

constexpr int kDateLayouts = 5;

// The date in words in layout 0..kDateLayouts-1 (see translate_pair).
std::string date_words(int year, int month, int day, int layout, YearStyle style) {
  const std::string m = kMonths[month - 1], y = year_words(year, style);
  switch (layout) {
    case 0: return "the " + ordinal_words(day) + " of " + m + " " + y;
    case 1: return m + " " + ordinal_words(day) + " " + y;
    case 2: return m + " the " + ordinal_words(day) + " " + y;
    case 3: return below_hundred(day) + " " + m + " " + y;
    default: return ordinal_words(day) + " " + m + " " + y;
  }
}

// The text split at spaces and hyphens.
std::vector<std::string> tokens(const std::string& text) {
  std::vector<std::string> out;
  std::string word;
  for (char c : text + " ") {
    if (c == ' ' || c == '-') {
      if (!word.empty()) out.push_back(word);
      word.clear();
    } else {
      word += c;
    }
  }
  return out;
}

TranslatePair number_pair(tasks::CounterRng& rng) {
  const int digits = 1 + static_cast<int>(rng.below(6));
  std::int64_t low = 0, high = 10;  // [low, high)
  for (int d = 1; d < digits; ++d) {
    low = d == 1 ? 10 : low * 10;
    high *= 10;
  }
  const std::int64_t value = low + rng.below(high - low);
  return {tokens(number_to_words(value)), std::to_string(value)};
}

TranslatePair date_pair(tasks::CounterRng& rng) {
  int days_total = 0;
  for (int year = kFirstYear; year <= kLastYear; ++year) days_total += is_leap(year) ? 366 : 365;
  int day_index = static_cast<int>(rng.below(days_total));
  int year = kFirstYear, month = 1;
  while (day_index >= (is_leap(year) ? 366 : 365)) day_index -= is_leap(year++) ? 366 : 365;
  while (day_index >= days_in_month(year, month)) day_index -= days_in_month(year, month++);
  const int day = day_index + 1;
  const int layout = static_cast<int>(rng.below(kDateLayouts));
  const YearStyle style = year < 2000 ? YearStyle::paired : kYearStyles[rng.below(3)];
  auto padded = [](int value, std::size_t width) {
    const std::string digits = std::to_string(value);
    return std::string(width - std::min(width, digits.size()), '0') + digits;
  };
  return {tokens(date_words(year, month, day, layout, style)),
          padded(year, 4) + "-" + padded(month, 2) + "-" + padded(day, 2)};
}

// A tag that keeps this task's numbers apart from other generators given the same seed.
constexpr std::uint64_t kTranslateStream = 0x7472616e736c6174ull;  // "translat"

}  // namespace

std::string number_to_words(std::int64_t n) {
  check_argument(n >= 0 && n <= 999'999'999, "number_to_words", "n",
                 "to be in [0, 999999999], got " + std::to_string(n));
  if (n == 0) return "zero";
  const int millions = static_cast<int>(n / 1'000'000);
  const int thousands = static_cast<int>(n / 1000 % 1000);
  const int rest = static_cast<int>(n % 1000);
  std::string words;
  auto append = [&](const std::string& part) { words += (words.empty() ? "" : " ") + part; };
  if (millions) append(below_thousand(millions) + " million");
  if (thousands) append(below_thousand(thousands) + " thousand");
  if (rest) append((rest < 100 && !words.empty() ? "and " : "") + below_thousand(rest));
  return words;
}

std::string ordinal_words(int n) {
  check_argument(n >= 1 && n <= 31, "ordinal_words", "n",
                 "to be a day of the month in [1, 31], got " + std::to_string(n));
  if (n < 20) return kUnitOrdinals[n];
  if (n == 20) return "twentieth";
  if (n == 30) return "thirtieth";
  return std::string(kTens[n / 10]) + "-" + kUnitOrdinals[n % 10];
}

const char* month_name(int month) {
  check_argument(month >= 1 && month <= 12, "month_name", "month",
                 "to be in [1, 12], got " + std::to_string(month));
  return kMonths[month - 1];
}

TranslatePair translate_pair(std::uint64_t seed, std::uint64_t index) {
  tasks::CounterRng rng{seed, kTranslateStream, index};
  return rng.below(2) == 0 ? number_pair(rng) : date_pair(rng);
}

const std::vector<std::string>& translate_source_vocabulary() {
  // Every word of every piece the generators assemble, from the same functions.
  static const std::vector<std::string> vocabulary = [] {
    std::set<std::string> words;
    auto add = [&](const std::string& text) {
      for (const std::string& w : tokens(text)) words.insert(w);
    };
    for (int n = 0; n < 1000; ++n) add(number_to_words(n));
    add(number_to_words(1000));
    for (int day = 1; day <= 31; ++day) add(ordinal_words(day));
    for (int year = kFirstYear; year <= kLastYear; ++year) {
      for (YearStyle style : kYearStyles) {
        if (style == YearStyle::paired || year >= 2000) add(year_words(year, style));
      }
    }
    for (int month = 1; month <= 12; ++month) add(month_name(month));
    for (int layout = 0; layout < kDateLayouts; ++layout) {
      add(date_words(2001, 1, 1, layout, YearStyle::paired));  // the layouts' own words
    }
    return std::vector<std::string>(words.begin(), words.end());
  }();
  return vocabulary;
}

const std::string& translate_target_alphabet() {
  static const std::string alphabet = "-0123456789";
  return alphabet;
}

}  // namespace gpurnn::train
