#include "cli/number_flags.h"

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>

namespace gpurnn::cli {

std::string check_integer_text(std::string& text, bool is_signed) {
  const bool negative = !text.empty() && text.front() == '-';
  std::size_t first = negative || (!text.empty() && text.front() == '+') ? 1 : 0;
  if (first == text.size()) return "expected a whole number, got '" + text + "'";
  for (std::size_t i = first; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return "expected a whole decimal number, got '" + text + "'";
  }
  if (negative && !is_signed) return "must not be negative, got " + text;
  // Leading zeros would make CLI11 read the rest as octal.
  while (first + 1 < text.size() && text[first] == '0') text.erase(first, 1);
  errno = 0;
  if (is_signed) {
    (void)std::strtoll(text.c_str(), nullptr, 10);
    if (errno == ERANGE) {
      return text + " is out of range (" + std::to_string(std::numeric_limits<std::int64_t>::min()) + " to " +
             std::to_string(std::numeric_limits<std::int64_t>::max()) + ")";
    }
  } else {
    (void)std::strtoull(text.c_str(), nullptr, 10);
    if (errno == ERANGE) {
      return text + " is out of range (0 to " + std::to_string(std::numeric_limits<std::uint64_t>::max()) + ")";
    }
  }
  return "";
}

std::string check_float_text(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) return "expected a number, got '" + text + "'";
  if (!std::isfinite(v) || errno == ERANGE) return "must be a finite number, got " + text;
  return "";
}

CLI::Validator positive_number() {
  return CLI::Validator(
      [](std::string& s) {
        const std::string why = check_float_text(s);
        if (!why.empty()) return why;
        return std::strtod(s.c_str(), nullptr) > 0 ? std::string() : "must be above 0, got " + s;
      },
      "POSITIVE", "positive");
}

void add_number_checks(CLI::App& app) {
  const CLI::Validator signed_integer([](std::string& s) { return check_integer_text(s, true); }, "", "integer");
  const CLI::Validator unsigned_integer([](std::string& s) { return check_integer_text(s, false); }, "", "unsigned");
  const CLI::Validator finite_float([](std::string& s) { return check_float_text(s); }, "", "finite");
  std::vector<CLI::App*> apps = app.get_subcommands([](CLI::App*) { return true; });
  apps.push_back(&app);
  for (CLI::App* a : apps) {
    for (CLI::Option* opt : a->get_options()) {
      const std::string type = opt->get_type_name();
      if (type == "INT") opt->check(signed_integer);
      if (type == "UINT") opt->check(unsigned_integer);
      if (type == "FLOAT") opt->check(finite_float);
    }
  }
}

}  // namespace gpurnn::cli
