#include "cli/progress.h"

#include <cmath>
#include <cstdio>
#include <ostream>

#include "gpurnn/error.h"

namespace gpurnn::cli {

ProgressStyle parse_progress_style(const std::string& text, bool is_terminal) {
  if (text == "auto") return is_terminal ? ProgressStyle::bar : ProgressStyle::lines;
  if (text == "bar") return ProgressStyle::bar;
  if (text == "lines") return ProgressStyle::lines;
  if (text == "none") return ProgressStyle::none;
  throw Error(ErrorCode::invalid_argument, "--progress " + text + ": expected auto, bar, lines or none");
}

std::string format_duration(double seconds) {
  const long long s = std::llround(std::max(0.0, seconds));
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  }
  return buf;
}

namespace {

// The items are sequence steps (time steps x rows of the batch): "steps/s" beside "step 381/400"
// would read as optimizer updates, so plain "steps" is shown as "seq-steps".
std::string rate_unit(const std::string& item_unit) { return item_unit == "steps" ? "seq-steps" : item_unit; }

}  // namespace

Progress::Progress(std::ostream& out, ProgressStyle style, std::int64_t first, std::int64_t total,
                   const std::string& item_unit)
    : out_(out), style_(style), first_(first), total_(total), unit_(rate_unit(item_unit)),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {
  next_line_step_ = first_;
}

double Progress::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string Progress::line(std::int64_t step) const {
  const double elapsed = seconds();
  const std::int64_t done = step - first_;
  const double per_step = done > 0 ? elapsed / static_cast<double>(done) : 0.0;
  const double eta = per_step * static_cast<double>(total_ - step);
  const double updates = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const double rate = elapsed > 0 ? static_cast<double>(items_) / elapsed : 0.0;
  char buf[200];
  std::snprintf(buf, sizeof buf, "step %lld/%lld  loss %.4f  %.3g updates/s  %.3g %s/s  elapsed %s  ETA %s",
                static_cast<long long>(step), static_cast<long long>(total_), smoothed_loss_, updates, rate,
                unit_.c_str(), format_duration(elapsed).c_str(), format_duration(eta).c_str());
  return buf;
}

void Progress::update(std::int64_t step, double loss, std::int64_t items) {
  smoothed_loss_ = has_loss_ ? 0.9 * smoothed_loss_ + 0.1 * loss : loss;
  has_loss_ = true;
  items_ += items;
  if (style_ == ProgressStyle::none) return;
  const auto now = std::chrono::steady_clock::now();
  if (style_ == ProgressStyle::bar) {
    if (step != total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    constexpr int kWidth = 24;
    const double fraction = total_ > 0 ? static_cast<double>(step) / static_cast<double>(total_) : 1.0;
    const int filled = static_cast<int>(fraction * kWidth);
    out_ << "\r[" << std::string(filled, '#') << std::string(kWidth - filled, '.') << "] " << line(step)
         << "   " << std::flush;
    return;
  }
  // Lines: about twenty over the run, and the last step.
  if (step >= next_line_step_ || step == total_) {
    out_ << line(step) << "\n" << std::flush;
    next_line_step_ = step + std::max<std::int64_t>(1, (total_ - first_) / 20);
  }
}

void Progress::finish() {
  if (style_ == ProgressStyle::bar) out_ << "\n" << std::flush;
}

}  // namespace gpurnn::cli
