// libFuzzer entry point for the CSV column reader of `gpurnn train timeseries --csv`: the input is
// the file's text, the column "value". A gpurnn::Error is the expected outcome for a file that
// cannot be read; an accepted one gives one finite value per data line at most.
#include <algorithm>
#include <cmath>
#include <string_view>

#include "fuzz_support.h"
#include "gpurnn/error.h"
#include "tasks/csv_column.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<double> values;
  try {
    values = gpurnn::train::tasks::parse_csv_column(text, "fuzz.csv", "value");
  } catch (const gpurnn::Error& error) {
    return gpurnn::fuzz::refused(error);  // refused: fine
  }
  const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  gpurnn::fuzz::check(values.size() <= lines);  // the header is a line of its own
  for (const double v : values) gpurnn::fuzz::check(std::isfinite(v));
  return 0;
}
