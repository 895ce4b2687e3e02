#include "tasks/video_baseline.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace gpurnn::train::tasks {
namespace {

constexpr std::int64_t kMaxPooledSide = 16;
constexpr std::int64_t kMaxTrainClips = 4096;
constexpr int kSteps = 300;
constexpr double kL2 = 1e-3;
constexpr double kLearningRate = 0.05;

// A clip's mean frame, pooled by `pool` x `pool` blocks (a partial block at the edge averages
// what it has): ceil(h / pool) * ceil(w / pool) values.
std::vector<double> pooled_mean_frame(const ClipStore& clips, const std::vector<float>& mean, std::int64_t pool) {
  const std::int64_t h = clips.height(), w = clips.width();
  const std::int64_t ph = (h + pool - 1) / pool, pw = (w + pool - 1) / pool;
  std::vector<double> out(static_cast<std::size_t>(ph * pw), 0.0), count(out.size(), 0.0);
  for (std::int64_t y = 0; y < h; ++y) {
    for (std::int64_t x = 0; x < w; ++x) {
      const auto k = static_cast<std::size_t>((y / pool) * pw + x / pool);
      out[k] += mean[static_cast<std::size_t>(y * w + x)];
      count[k] += 1.0;
    }
  }
  for (std::size_t k = 0; k < out.size(); ++k) out[k] /= count[k];
  return out;
}

// The mean frame's shape wherever it lies: its mass and its intensity-weighted second central
// moments (xx, yy, xy, and the determinant's root), which see a smear's axis or a turning
// shape's round trace, where the pixels alone would need the shape at a fixed place.
std::vector<double> moment_features(const ClipStore& clips, const std::vector<float>& mean) {
  const std::int64_t h = clips.height(), w = clips.width();
  double mass = 0, cx = 0, cy = 0;
  for (std::int64_t y = 0; y < h; ++y) {
    for (std::int64_t x = 0; x < w; ++x) {
      const double v = std::max(0.0f, mean[static_cast<std::size_t>(y * w + x)]);
      mass += v, cx += v * x, cy += v * y;
    }
  }
  if (mass <= 0) return {0, 0, 0, 0, 0};
  cx /= mass, cy /= mass;
  double xx = 0, yy = 0, xy = 0;
  for (std::int64_t y = 0; y < h; ++y) {
    for (std::int64_t x = 0; x < w; ++x) {
      const double v = std::max(0.0f, mean[static_cast<std::size_t>(y * w + x)]);
      xx += v * (x - cx) * (x - cx), yy += v * (y - cy) * (y - cy), xy += v * (x - cx) * (y - cy);
    }
  }
  xx /= mass, yy /= mass, xy /= mass;
  return {mass, xx, yy, xy, std::sqrt(std::max(0.0, xx * yy - xy * xy))};
}

// Rows of pooled mean frames and their moments, one per clip (at most `limit`), each with a
// trailing 1 (the bias).
std::vector<std::vector<double>> features(const ClipStore& clips, std::int64_t pool, std::int64_t limit) {
  std::vector<std::vector<double>> rows;
  for (std::int64_t n = 0; n < std::min(clips.size(), limit); ++n) {
    const std::vector<float> mean = mean_frame(clips, n);
    rows.push_back(pooled_mean_frame(clips, mean, pool));
    for (double m : moment_features(clips, mean)) rows.back().push_back(m);
    rows.back().push_back(1.0);
  }
  return rows;
}

// softmax(W x) into p, W stored [features][classes] (so the loops run over the classes and
// vectorise); returns the argmax.
std::int64_t predict(const std::vector<double>& w, const std::vector<double>& x, std::int64_t classes,
                     std::vector<double>& p) {
  const auto k_count = static_cast<std::size_t>(classes);
  std::fill(p.begin(), p.end(), 0.0);
  for (std::size_t j = 0; j < x.size(); ++j) {
    const double xj = x[j];
    const double* wj = w.data() + j * k_count;
    for (std::size_t k = 0; k < k_count; ++k) p[k] += wj[k] * xj;
  }
  double top = -1e300;
  std::int64_t best = 0;
  for (std::size_t k = 0; k < k_count; ++k) {
    if (p[k] > top) top = p[k], best = static_cast<std::int64_t>(k);
  }
  double total = 0;
  for (double& v : p) total += (v = std::exp(v - top));
  for (double& v : p) v /= total;
  return best;
}

}  // namespace

double mean_frame_accuracy(const ClipStore& train, const ClipStore& eval, std::int64_t classes) {
  const std::int64_t side = std::max(train.height(), train.width());
  const std::int64_t pool = (side + kMaxPooledSide - 1) / kMaxPooledSide;
  std::vector<std::vector<double>> x = features(train, pool, kMaxTrainClips);
  std::vector<std::vector<double>> xe = features(eval, pool, eval.size());
  const std::size_t f = x.front().size();
  // Standardise each pixel by the training clips' mean and deviation (not the bias column).
  for (std::size_t j = 0; j + 1 < f; ++j) {
    double mean = 0, square = 0;
    for (const auto& row : x) mean += row[j], square += row[j] * row[j];
    mean /= static_cast<double>(x.size());
    const double sd = std::sqrt(std::max(square / static_cast<double>(x.size()) - mean * mean, 0.0)) + 1e-6;
    for (auto& row : x) row[j] = (row[j] - mean) / sd;
    for (auto& row : xe) row[j] = (row[j] - mean) / sd;
  }
  const auto k_count = static_cast<std::size_t>(classes);
  std::vector<double> w(k_count * f, 0.0), grad(w.size()), m(w.size(), 0.0), v(w.size(), 0.0), p(k_count);
  const double n = static_cast<double>(x.size());
  for (int step = 1; step <= kSteps; ++step) {
    for (std::size_t i = 0; i < w.size(); ++i) grad[i] = kL2 * w[i];
    for (std::size_t r = 0; r < x.size(); ++r) {
      predict(w, x[r], classes, p);
      p[static_cast<std::size_t>(train.label(static_cast<std::int64_t>(r)))] -= 1.0;
      for (double& g : p) g /= n;
      for (std::size_t j = 0; j < f; ++j) {
        const double xj = x[r][j];
        double* gj = grad.data() + j * k_count;
        for (std::size_t k = 0; k < k_count; ++k) gj[k] += p[k] * xj;
      }
    }
    // Adam (beta 0.9, 0.999).
    const double c1 = 1 - std::pow(0.9, step), c2 = 1 - std::pow(0.999, step);
    for (std::size_t i = 0; i < w.size(); ++i) {
      m[i] = 0.9 * m[i] + 0.1 * grad[i];
      v[i] = 0.999 * v[i] + 0.001 * grad[i] * grad[i];
      w[i] -= kLearningRate * (m[i] / c1) / (std::sqrt(v[i] / c2) + 1e-8);
    }
  }
  std::int64_t correct = 0;
  for (std::size_t r = 0; r < xe.size(); ++r) {
    correct += predict(w, xe[r], classes, p) == eval.label(static_cast<std::int64_t>(r));
  }
  return static_cast<double>(correct) / static_cast<double>(xe.size());
}

}  // namespace gpurnn::train::tasks
