#pragma once
// The timeseries task's batches and its autoregressive baseline.
//
// A series is read as windows: at input position p the model reads u_p and predicts the
// `horizon` targets y_{p,1} .. y_{p,h} (the task fills both: levels, or first differences with
// targets the change since x_p). A SeriesSource walks positions [first, first + lanes * per_lane)
// in `lanes` runs of `per_lane` positions, each cut into chunks of `steps` (the last shorter),
// carrying the state from chunk to chunk (truncated BPTT). With `warmup` > 0, each run is
// preceded by the `warmup` positions before its start: warm-up batches (the first shorter, the
// rest full) that only build the state (Task::eval_warmup_batches) and whose targets are zero.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gpurnn/train/batch.h"

namespace gpurnn::train::tasks {

struct SeriesWindows {
  std::int64_t horizon = 1;
  std::vector<float> inputs;   // u_p, one per position of the series
  std::vector<float> targets;  // y_{p,j} at [p * horizon + j - 1]; positions without all targets: unused
};

class SeriesSource : public BatchSource {
 public:
  // Error(invalid_argument) when a run would start before `warmup` positions of history or end
  // past the windows that have targets, or for lanes, per_lane or steps below 1.
  SeriesSource(std::shared_ptr<const SeriesWindows> windows, std::int64_t first, std::int64_t lanes,
               std::int64_t per_lane, std::int64_t steps, std::int64_t warmup);

  std::int64_t batches_per_epoch() const override { return warmup_batches_ + chunks_; }
  Batch batch(std::int64_t index) const override;

  std::int64_t warmup_batches() const { return warmup_batches_; }
  std::int64_t warmup() const { return warmup_; }
  std::int64_t first() const { return first_; }
  std::int64_t lanes() const { return lanes_; }
  // Counted positions: [first, first + counted()).
  std::int64_t counted() const { return lanes_ * per_lane_; }

 private:
  std::shared_ptr<const SeriesWindows> windows_;
  std::int64_t first_, lanes_, per_lane_, steps_, warmup_;
  std::int64_t warmup_batches_ = 0, chunks_ = 0;
};

// Least-squares AR(p) with an intercept: u_t ~ c + a_1 u_{t-1} + ... + a_p u_{t-p}, fitted on the
// targets t in [begin + p, end) (every lag at or after `begin`). coefficients = {c, a_1 .. a_p}.
struct ArModel {
  std::vector<double> coefficients;
  int order() const { return static_cast<int>(coefficients.size()) - 1; }
  // u_{q+1} .. u_{q+h}, each predicted from the values before it (the predictions once past q);
  // lags before u_0 read as 0 (the normalised series' mean).
  std::vector<double> forecast(const std::vector<double>& u, std::int64_t q, std::int64_t horizon) const;
  // "c a_1 .. a_p", each number exact (a checkpoint setting); parse() reads it back, nullopt
  // unless it is 2 to 65 plain decimals (checkpoint_detail::plain_decimal) one space apart.
  std::string text() const;
  static std::optional<ArModel> parse(const std::string& text);
};
ArModel fit_ar(const std::vector<double>& u, std::int64_t begin, std::int64_t end, int order);

}  // namespace gpurnn::train::tasks
