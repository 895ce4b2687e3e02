#include "tasks/csv_column.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "core/quoted.h"
#include "gpurnn/error.h"
#include "io/mapped_file.h"
#include "tasks/task_support.h"
#include "train/checkpoint_metadata.h"

namespace gpurnn::train::tasks {
namespace {

constexpr const char* kWhere = "read_csv_column";

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

// The fields of one line, or nullopt when a quoted field does not end on it.
std::optional<std::vector<std::string>> split_fields(std::string_view line) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back(trim(field));
      field.clear();
    } else {
      field += c;
    }
  }
  if (quoted) return std::nullopt;
  fields.emplace_back(trim(field));
  return fields;
}

// The first kListedColumns column names, quoted, and how many more there are.
constexpr std::size_t kListedColumns = 20;
std::string list_columns(const std::vector<std::string>& names) {
  std::string listed;
  for (std::size_t i = 0; i < names.size() && i < kListedColumns; ++i) {
    listed += (i ? ", " : "") + gpurnn::detail::quoted(names[i]);
  }
  if (names.size() > kListedColumns) listed += " and " + std::to_string(names.size() - kListedColumns) + " more";
  return listed;
}

// An empty cell: nothing, or a NaN as a spreadsheet or pandas may write it.
bool is_empty_cell(const std::string& text) {
  return text.empty() || text == "nan" || text == "NaN" || text == "NAN";
}

bool parse_number(const std::string& text, double& value) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  value = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && errno == 0 && std::isfinite(value);
}

}  // namespace

FillMode parse_fill_mode(const std::string& text, const std::string& flag) {
  if (text.empty() || text == "refuse") return FillMode::refuse;
  if (text == "previous") return FillMode::previous;
  if (text == "interpolate") return FillMode::interpolate;
  if (text == "drop") return FillMode::drop;
  throw Error(ErrorCode::invalid_argument, "argument '" + flag + "' is " + gpurnn::detail::quoted(text) +
                                               "; expected previous, interpolate or drop");
}

const char* to_string(FillMode mode) {
  switch (mode) {
    case FillMode::previous: return "previous";
    case FillMode::interpolate: return "interpolate";
    case FillMode::drop: return "drop";
    case FillMode::refuse: break;
  }
  return "refuse";
}

std::vector<double> parse_csv_column(std::string_view text, const std::string& path, const std::string& column,
                                     CsvFill* fill) {
  const FillMode mode = fill ? fill->mode : FillMode::refuse;
  if (fill) fill->filled = fill->dropped = 0;
  const std::string file = "'" + path + "'";
  constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
  if (text.substr(0, kByteOrderMark.size()) == kByteOrderMark) text.remove_prefix(kByteOrderMark.size());
  std::size_t position = 0;
  std::size_t line_number = 0;
  auto next_line = [&](std::string_view& line) {
    while (position < text.size()) {
      const std::size_t end = std::min(text.find('\n', position), text.size());
      line = text.substr(position, end - position);
      position = end + 1;
      ++line_number;
      if (!trim(line).empty()) return true;
    }
    return false;
  };
  auto fields_of = [&](std::string_view line) {
    std::optional<std::vector<std::string>> fields = split_fields(line);
    if (!fields) {
      throw Error(ErrorCode::invalid_argument, std::string(kWhere) + ": " + file + " line " +
                                                   std::to_string(line_number) +
                                                   ": a quoted field has no closing quote (a quoted field ends on its line)");
    }
    return std::move(*fields);
  };

  std::string_view line;
  if (!next_line(line)) {
    throw Error(ErrorCode::invalid_argument, std::string(kWhere) + ": " + file + " is empty (expected a header line)");
  }
  const std::vector<std::string> names = fields_of(line);
  const auto found = std::find(names.begin(), names.end(), column);
  if (found == names.end()) {
    throw Error(ErrorCode::invalid_argument, std::string(kWhere) + ": argument 'csv_column' is " +
                                                 gpurnn::detail::quoted(column) + ", which is not a column of " + file +
                                                 "; its " + std::to_string(names.size()) + " columns are " +
                                                 list_columns(names));
  }
  const auto index = static_cast<std::size_t>(found - names.begin());
  const auto again = std::find(found + 1, names.end(), column);
  if (again != names.end()) {
    throw Error(ErrorCode::invalid_argument,
                std::string(kWhere) + ": argument 'csv_column' is " + gpurnn::detail::quoted(column) + ", which " + file +
                    " names twice (columns " + std::to_string(index + 1) + " and " +
                    std::to_string(again - names.begin() + 1) + "); rename one in the header");
  }
  std::vector<double> values;
  std::size_t gap = 0;  // empty cells since the last value (previous, interpolate)
  while (next_line(line)) {
    const std::vector<std::string> fields = fields_of(line);
    double value = 0.0;
    if (index < fields.size() && is_empty_cell(fields[index])) {
      if (mode == FillMode::refuse) {
        throw Error(ErrorCode::invalid_argument,
                    std::string(kWhere) + ": " + file + " line " + std::to_string(line_number) + ", column " +
                        gpurnn::detail::quoted(column) + ": the cell is empty (a missing value, as pandas writes NaN); "
                        "--fill previous, --fill interpolate or --fill drop fills or skips empty cells");
      }
      if (mode == FillMode::drop || values.empty()) {
        ++fill->dropped;  // nothing before it to fill from
      } else if (mode == FillMode::previous) {
        values.push_back(values.back());
        ++fill->filled;
      } else {
        ++gap;
      }
      continue;
    }
    if (index >= fields.size() || !parse_number(fields[index], value)) {
      const std::string cell = index < fields.size() ? gpurnn::detail::quoted(fields[index]) : "missing";
      throw Error(ErrorCode::invalid_argument, std::string(kWhere) + ": " + file + " line " +
                                                   std::to_string(line_number) + ", column " +
                                                   gpurnn::detail::quoted(column) + ": cell " + cell + " is not a number");
    }
    if (gap > 0) {  // interpolate: the empty cells between the last value and this one
      const double last = values.back();
      for (std::size_t i = 1; i <= gap; ++i) {
        values.push_back(last + (value - last) * static_cast<double>(i) / static_cast<double>(gap + 1));
      }
      fill->filled += static_cast<std::int64_t>(gap);
      gap = 0;
    }
    values.push_back(value);
  }
  if (gap > 0) {  // interpolate: after the last value, the last value
    values.insert(values.end(), gap, values.back());
    fill->filled += static_cast<std::int64_t>(gap);
  }
  return values;
}

std::vector<double> read_csv_column(const std::string& path, const std::string& column, std::string* content_hash,
                                    std::uint64_t* file_bytes, CsvFill* fill) {
  std::optional<io::detail::MappedFile> file;
  try {
    file.emplace(path);
  } catch (const Error& error) {
    throw Error(error.code(), std::string(kWhere) + ": argument 'csv': " + error.what());
  }
  check_data_file_size(file->size(), kWhere, "csv", path);
  // Parsed straight from the mapping (no copy of the file), then checked unchanged.
  return file->checked([&](const std::uint8_t* bytes, std::size_t size) {
    if (content_hash != nullptr) {
      checkpoint_detail::ContentHash hash;
      hash.add(bytes, size);
      *content_hash = hash.text();
    }
    if (file_bytes != nullptr) *file_bytes = size;
    return parse_csv_column(std::string_view(reinterpret_cast<const char*>(bytes), size), path, column, fill);
  });
}

}  // namespace gpurnn::train::tasks
