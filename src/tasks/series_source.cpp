#include "tasks/series_source.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "gpurnn/error.h"
#include "tasks/data_record.h"
#include "tasks/new_batch.h"
#include "train/checkpoint_metadata.h"

namespace gpurnn::train::tasks {
namespace {

constexpr const char* kWhere = "SeriesSource";

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

}  // namespace

SeriesSource::SeriesSource(std::shared_ptr<const SeriesWindows> windows, std::int64_t first, std::int64_t lanes,
                           std::int64_t per_lane, std::int64_t steps, std::int64_t warmup)
    : windows_(std::move(windows)), first_(first), lanes_(lanes), per_lane_(per_lane), steps_(steps), warmup_(warmup) {
  check_argument(windows_ != nullptr, kWhere, "windows", "is null");
  check_argument(lanes >= 1 && per_lane >= 1 && steps >= 1, kWhere, "lanes",
                 "lanes, per_lane and steps must be at least 1");
  const auto positions = static_cast<std::int64_t>(windows_->inputs.size());
  check_argument(warmup >= 0 && first - warmup >= 0, kWhere, "warmup",
                 std::to_string(warmup) + " positions of history before position " + std::to_string(first));
  check_argument(first + lanes * per_lane + windows_->horizon <= positions, kWhere, "per_lane",
                 "the runs end past the positions that have targets");
  warmup_batches_ = ceil_div(warmup, steps);
  chunks_ = ceil_div(per_lane, steps);
}

Batch SeriesSource::batch(std::int64_t index) const {
  check_argument(index >= 0, kWhere, "index", "must be non-negative, got " + std::to_string(index));
  index %= batches_per_epoch();
  const std::int64_t horizon = windows_->horizon;
  const ModelInterface interface{InputKind::features, 1, TargetKind::step_values, horizon};
  // Warm-up batch b covers offsets [start, start + length) before each run's first position.
  const bool warm = index < warmup_batches_;
  std::int64_t offset = 0, length = 0;  // relative to each run's first position
  if (warm) {
    const std::int64_t first_length = warmup_ - (warmup_batches_ - 1) * steps_;
    offset = index == 0 ? -warmup_ : -warmup_ + first_length + (index - 1) * steps_;
    length = index == 0 ? first_length : steps_;
  } else {
    const std::int64_t chunk = index - warmup_batches_;
    offset = chunk * steps_;
    length = std::min(steps_, per_lane_ - offset);
  }
  const bool carry = index > 0;
  Batch batch = new_batch(interface, length, lanes_);
  batch.carry_state.assign(static_cast<std::size_t>(lanes_), carry ? 1 : 0);
  auto* lengths = batch.lengths.data_as<std::int32_t>();
  float* inputs = batch.inputs.data_as<float>();
  float* targets = batch.targets.data_as<float>();
  for (std::int64_t row = 0; row < lanes_; ++row) {
    lengths[row] = static_cast<std::int32_t>(length);
    const std::int64_t start = first_ + row * per_lane_ + offset;
    for (std::int64_t t = 0; t < length; ++t) {
      const auto p = static_cast<std::size_t>(start + t);
      inputs[t * lanes_ + row] = windows_->inputs[p];
      if (warm) continue;  // only builds the state: targets zero, not counted
      for (std::int64_t j = 0; j < horizon; ++j) {
        targets[(t * lanes_ + row) * horizon + j] = windows_->targets[p * static_cast<std::size_t>(horizon) + j];
      }
    }
  }
  return batch;
}

std::vector<double> ArModel::forecast(const std::vector<double>& u, std::int64_t q, std::int64_t horizon) const {
  const int p = order();
  std::vector<double> history(static_cast<std::size_t>(p), 0.0);  // u_{q-p+1} .. u_q, 0 before u_0
  for (std::int64_t i = 0; i < p; ++i) {
    const std::int64_t t = q - p + 1 + i;
    if (t >= 0) history[static_cast<std::size_t>(i)] = u[static_cast<std::size_t>(t)];
  }
  std::vector<double> out;
  for (std::int64_t j = 0; j < horizon; ++j) {
    double v = coefficients[0];
    const std::size_t n = history.size();
    for (int i = 1; i <= p; ++i) v += coefficients[static_cast<std::size_t>(i)] * history[n - static_cast<std::size_t>(i)];
    out.push_back(v);
    history.push_back(v);
  }
  return out;
}

std::string ArModel::text() const {
  std::string out;
  for (double c : coefficients) out += (out.empty() ? "" : " ") + exact_number(c);
  return out;
}

std::optional<ArModel> ArModel::parse(const std::string& text) {
  ArModel model;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = std::min(text.find(' ', at), text.size());
    // Each number read as strictly as any other in a checkpoint's metadata.
    const std::optional<double> v = checkpoint_detail::plain_decimal(text.substr(at, end - at));
    if (!v) return std::nullopt;
    model.coefficients.push_back(*v);
    at = end + 1;
  }
  if (model.coefficients.size() < 2 || model.coefficients.size() > 65 || text.back() == ' ') return std::nullopt;
  return model;
}

ArModel fit_ar(const std::vector<double>& u, std::int64_t begin, std::int64_t end, int order) {
  const auto k = static_cast<std::size_t>(order) + 1;
  check_argument(order >= 1 && end - begin > order, "fit_ar", "order",
                 std::to_string(order) + " needs more than " + std::to_string(order) + " values");
  // Normal equations (X^T X) a = X^T y, X's rows [1, u_{t-1}, .., u_{t-p}], solved by Gaussian
  // elimination with partial pivoting (a tiny ridge keeps a constant series solvable).
  std::vector<double> a(k * k, 0.0), b(k, 0.0), row(k);
  for (std::int64_t t = begin + order; t < end; ++t) {
    row[0] = 1.0;
    for (std::size_t i = 1; i < k; ++i) row[i] = u[static_cast<std::size_t>(t) - i];
    const double y = u[static_cast<std::size_t>(t)];
    for (std::size_t i = 0; i < k; ++i) {
      b[i] += row[i] * y;
      for (std::size_t j = 0; j < k; ++j) a[i * k + j] += row[i] * row[j];
    }
  }
  for (std::size_t i = 0; i < k; ++i) a[i * k + i] += 1e-9 * (1.0 + a[i * k + i]);
  for (std::size_t c = 0; c < k; ++c) {
    std::size_t pivot = c;
    for (std::size_t r = c + 1; r < k; ++r) {
      if (std::fabs(a[r * k + c]) > std::fabs(a[pivot * k + c])) pivot = r;
    }
    if (pivot != c) {
      for (std::size_t j = 0; j < k; ++j) std::swap(a[c * k + j], a[pivot * k + j]);
      std::swap(b[c], b[pivot]);
    }
    for (std::size_t r = c + 1; r < k; ++r) {
      const double f = a[r * k + c] / a[c * k + c];
      for (std::size_t j = c; j < k; ++j) a[r * k + j] -= f * a[c * k + j];
      b[r] -= f * b[c];
    }
  }
  ArModel model;
  model.coefficients.assign(k, 0.0);
  for (std::size_t i = k; i-- > 0;) {
    double v = b[i];
    for (std::size_t j = i + 1; j < k; ++j) v -= a[i * k + j] * model.coefficients[j];
    model.coefficients[i] = v / a[i * k + i];
  }
  return model;
}

}  // namespace gpurnn::train::tasks
