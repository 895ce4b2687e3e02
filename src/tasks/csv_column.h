#pragma once
// One numeric column of a CSV file: a header line of column names, then one record per line,
// fields separated by commas (a field may be "quoted", with "" for a quote inside), blanks
// around a field ignored, blank lines skipped, \r\n accepted.

#include <string>
#include <vector>

namespace gpurnn::train::tasks {

// Error(io_error) naming the file when it cannot be read; Error(invalid_argument) naming the
// file and: 'csv_column' with the columns there are when `column` is not one of them; the line
// and column of a cell that is not a number (or a record too short to have it); an empty file;
// a file over kMaxDataFileBytes (1 GiB). Names and cells from the file appear quoted
// (detail::quoted: escaped, cut after 80 bytes).
std::vector<double> read_csv_column(const std::string& path, const std::string& column);

}  // namespace gpurnn::train::tasks
