#pragma once
// One numeric column of a CSV file: a header line of column names, then one record per line,
// fields separated by commas (a field may be "quoted", with "" for a quote inside; a quoted field
// ends on its line), blanks around a field ignored, blank lines skipped, \r\n accepted, a UTF-8
// byte-order mark before the header skipped.

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
std::vector<double> read_csv_column(const std::string& path, const std::string& column);

// The parse itself, on the file's text; `path` only names it in errors (the fuzz target's entry).
std::vector<double> parse_csv_column(std::string_view text, const std::string& path, const std::string& column);

}  // namespace gpurnn::train::tasks
