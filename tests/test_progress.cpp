// The progress line of `gpurnn train` (src/cli/progress.h): its rates name their units, so the
// sequence steps per second are not read as the updates of "step k/n".

#include <gtest/gtest.h>

#include <cstdio>
#include <sstream>
#include <string>

#include "cli/progress.h"

namespace gpurnn::testing {
namespace {

// The first line `Progress` writes in the lines style after one update of `items` items.
std::string first_line(const std::string& unit, std::int64_t items) {
  std::ostringstream out;
  cli::Progress progress(out, cli::ProgressStyle::lines, 0, 4, unit);
  progress.update(1, 2.5, items);
  const std::string text = out.str();
  return text.substr(0, text.find('\n'));
}

// The number before " <unit>" in `line`, or -1 when there is none.
double rate_before(const std::string& line, const std::string& unit) {
  const std::size_t at = line.find(" " + unit);
  if (at == std::string::npos) return -1;
  const std::size_t start = line.rfind(' ', at - 1);
  return std::stod(line.substr(start + 1, at - start - 1));
}

TEST(ProgressLine, NamesSequenceStepsAndUpdatesApart) {
  const std::string line = first_line("steps", 600);
  EXPECT_EQ(line.rfind("step 1/4  loss 2.5000  ", 0), 0u) << line;
  EXPECT_EQ(line.find(" steps/s"), std::string::npos) << line;
  const double updates = rate_before(line, "updates/s");
  const double items = rate_before(line, "seq-steps/s");
  ASSERT_GT(updates, 0) << line;
  ASSERT_GT(items, 0) << line;
  // One update of 600 sequence steps, over the same elapsed time (shown to 3 digits).
  EXPECT_NEAR(items / updates, 600.0, 600.0 * 0.01) << line;
}

TEST(ProgressLine, TokensKeepTheirName) {
  const std::string line = first_line("tokens", 80);
  EXPECT_GT(rate_before(line, "tokens/s"), 0) << line;
  EXPECT_GT(rate_before(line, "updates/s"), 0) << line;
}

}  // namespace
}  // namespace gpurnn::testing
