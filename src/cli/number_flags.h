#pragma once
// Strict parsing of every numeric flag. CLI11 (2.1) reads integers with strtoll/strtoull in base
// 0, so 99999999999999999999 became INT64_MAX, -1 for an unsigned flag became 2^64-1 and 010
// became 8; floats accepted nan and inf. These validators accept plain decimal numbers in the
// flag's range only, and finite floats.

#include <CLI/CLI.hpp>

#include <string>

namespace gpurnn::cli {

// "" when `text` is a decimal integer (an optional '-' for signed flags, digits) in
// [min, max]; else the reason. Leading zeros are removed from `text` (so it reads as decimal).
std::string check_integer_text(std::string& text, bool is_signed);
// "" when `text` is a finite floating-point number; else the reason.
std::string check_float_text(const std::string& text);

// A validator: a number above 0 (CLI::PositiveNumber said "not in range 0.000000 to " and 309
// digits).
CLI::Validator positive_number();

// Adds the validators above to every INT, UINT and FLOAT option of `app` and its subcommands.
void add_number_checks(CLI::App& app);

}  // namespace gpurnn::cli
