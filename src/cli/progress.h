#pragma once
// The progress display of long work (`gpurnn train`): a bar redrawn in place on a terminal, or
// a line every few percent otherwise (logs, CI), or nothing. Written to stderr.

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace gpurnn::cli {

enum class ProgressStyle { bar, lines, none };

// "auto" picks bar on a terminal and lines otherwise; Error naming --progress for other text.
ProgressStyle parse_progress_style(const std::string& text, bool is_terminal);

// "1:05" or "12:03:09".
std::string format_duration(double seconds);

class Progress {
 public:
  // `item_unit` names what update()'s items count: "tokens", or "steps" (sequence steps, shown
  // as "seq-steps"). Each line shows both rates: optimizer updates and items per second.
  Progress(std::ostream& out, ProgressStyle style, std::int64_t first, std::int64_t total,
           const std::string& item_unit);
  // After step `step` (1-based) with its loss and the sequence steps it processed.
  void update(std::int64_t step, double loss, std::int64_t items);
  // Ends the bar's line.
  void finish();
  double seconds() const;

 private:
  std::string line(std::int64_t step) const;

  std::ostream& out_;
  ProgressStyle style_;
  std::int64_t first_, total_;
  std::string unit_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  double smoothed_loss_ = 0.0;
  bool has_loss_ = false;
  std::int64_t items_ = 0;
  std::int64_t next_line_step_ = 0;
};

}  // namespace gpurnn::cli
