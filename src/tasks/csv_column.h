#pragma once
// One numeric column of a CSV file: a header line of column names, then one record per line,
// fields separated by commas (a field may be "quoted", with "" for a quote inside; a quoted field
// ends on its line), blanks around a field ignored, blank lines skipped, \r\n accepted, a UTF-8
// byte-order mark before the header skipped.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gpurnn::train::tasks {

// Error(io_error) naming the file when it cannot be read; Error(invalid_argument) naming the
// file and: 'csv_column' with the columns there are when `column` is not one of them; the line
// and column of a cell that is not a number (or a record too short to have it); an empty file;
// a file over kMaxDataFileBytes (1 GiB). Names and cells from the file appear quoted
// (detail::quoted: escaped, cut after 80 bytes).
// The same errors besides: a line with an unterminated quote (naming the line), and a header that
// names `column` twice (naming both positions: which one was meant is not guessed).
// What to do with an empty cell of the column (pandas writes NaN as an empty cell; a cell "nan"
// or "NaN" counts as empty too), --fill: refuse (the default: the error names the line and
// suggests --fill), previous (the last value before it), interpolate (linear between the values
// around it; after the last value, the last value), drop (its row is skipped). previous and
// interpolate drop the empty cells before the first value, which have nothing to fill from.
enum class FillMode { refuse, previous, interpolate, drop };
struct CsvFill {
  FillMode mode = FillMode::refuse;
  std::int64_t filled = 0;   // out: cells filled (previous, interpolate)
  std::int64_t dropped = 0;  // out: rows dropped (drop, and leading empty cells)
};
// "previous", "interpolate", "drop" ("" or "refuse": refuse); Error(invalid_argument) naming
// `flag` and the choices otherwise.
FillMode parse_fill_mode(const std::string& text, const std::string& flag);
const char* to_string(FillMode mode);

// `content_hash`, when given, receives the ContentHash text of the file's bytes (what a
// checkpoint records of its data source), and `file_bytes` its size. `fill` (null: refuse) says
// what to do with empty cells and receives how many it filled or dropped.
std::vector<double> read_csv_column(const std::string& path, const std::string& column,
                                    std::string* content_hash = nullptr, std::uint64_t* file_bytes = nullptr,
                                    CsvFill* fill = nullptr);

// The parse itself, on the file's text; `path` only names it in errors (the fuzz target's entry).
std::vector<double> parse_csv_column(std::string_view text, const std::string& path, const std::string& column,
                                     CsvFill* fill = nullptr);

}  // namespace gpurnn::train::tasks
