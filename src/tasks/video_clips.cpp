#include "tasks/video_clips.h"

#include <algorithm>
#include <cmath>

#include "gpurnn/error.h"

namespace gpurnn::train::tasks {
namespace {

constexpr double kPi = 3.14159265358979323846;
// The stream word of the clips' per-frame noise (beside counter_rng.h's streams).
constexpr std::uint64_t kVideoNoiseStream = 0x766964656fULL;  // "video"
constexpr double kNoise = 0.12;
constexpr double kFlickerChance = 0.25;
constexpr double kBandWidth = 0.2;  // of the side
constexpr double kBandIntensity = 0.15;

// One box of a shape, in units of the shape's half-length: centre and half-extents.
struct Box {
  double cx, cy, hx, hy;
};
struct ShapeBoxes {
  Box boxes[2];
  int count;
};
// The boxes of each shape (no shape is symmetric under a half-turn but the bar, whose turn is
// still seen frame to frame: at most 160 degrees over at least 15 frames).
ShapeBoxes shape_boxes(VideoShape shape) {
  switch (shape) {
    case VideoShape::bar: return {{{0, 0, 1.0, 0.28}, {0, 0, 0, 0}}, 1};
    case VideoShape::ell: return {{{0, 0, 1.0, 0.25}, {-0.75, 0.55, 0.25, 0.55}}, 2};
    case VideoShape::tee: return {{{0, -0.55, 1.0, 0.25}, {0, 0.25, 0.25, 0.8}}, 2};
  }
  return {{{0, 0, 1.0, 0.28}, {0, 0, 0, 0}}, 1};
}

// How much of the pixel a signed distance d (pixels, negative inside) covers: a one-pixel ramp.
double coverage(double d) { return std::clamp(0.5 - d, 0.0, 1.0); }

// Pixel value v painted over with `value` at coverage a.
void paint(float& v, double a, double value) {
  if (a > 0) v = static_cast<float>(v * (1.0 - a) + a * value);
}

// A clip of the first class of pair `pair` (right, down, grow, clockwise), drawn from rng.
VideoClip draw_first_of_pair(CounterRng& rng, std::int32_t pair, std::int64_t side) {
  const double s = static_cast<double>(side);
  VideoClip clip;
  clip.label = 2 * pair;
  clip.side = side;
  clip.shape = static_cast<VideoShape>(rng.below(3));
  clip.intensity = rng.uniform(0.6, 1.0);
  const double angle = rng.uniform(0, 2 * kPi);
  double size = rng.uniform(0.16, 0.22) * s;
  if (pair == 2) size = rng.uniform(0.1, 0.13) * s;
  ShapeState a{0, 0, size, angle};
  ShapeState b = a;
  const double margin = 1.0 * size;
  if (pair == 0 || pair == 1) {  // right, down: along one axis, a little drift across it
    const double travel = rng.uniform(0.25, 0.45) * s;
    const double middle = rng.uniform(margin + travel / 2, s - margin - travel / 2);
    const double across = rng.uniform(margin, s - margin);
    const double drift = rng.uniform(-0.06, 0.06) * s;
    const double along0 = middle - travel / 2, along1 = middle + travel / 2;
    if (pair == 0) {
      a.x = along0, b.x = along1, a.y = across - drift / 2, b.y = across + drift / 2;
    } else {
      a.y = along0, b.y = along1, a.x = across - drift / 2, b.x = across + drift / 2;
    }
  } else {  // grow, clockwise: in place
    const double largest = pair == 2 ? size * 2.3 : size;
    a.x = b.x = rng.uniform(largest, s - largest);
    a.y = b.y = rng.uniform(largest, s - largest);
    if (pair == 2) b.size = size * rng.uniform(1.7, 2.3);
    if (pair == 3) b.angle = angle + rng.uniform(0.5, 0.89) * kPi;  // 90-160 degrees, clockwise on screen
  }
  clip.start = a;
  clip.end = b;
  const std::int64_t discs = 1 + rng.below(2);
  for (std::int64_t k = 0; k < discs; ++k) {
    clip.discs.push_back({rng.uniform(0, s), rng.uniform(0, s), rng.uniform(0.06, 0.1) * s, rng.uniform(0.25, 0.6)});
  }
  clip.occluded = rng.uniform() < 0.5;
  clip.vertical_band = rng.below(2) == 1;
  clip.band_from = rng.uniform(0, s * (1 - kBandWidth));
  clip.band_to = clip.band_from + kBandWidth * s;
  return clip;
}

}  // namespace

const std::vector<std::string>& video_class_names() {
  static const std::vector<std::string> names = {"right", "left",   "down",      "up",
                                                 "grow",  "shrink", "clockwise", "anticlockwise"};
  return names;
}

VideoClip draw_clip(std::uint64_t seed, std::uint64_t split, std::uint64_t index, std::int64_t side,
                    std::int64_t min_length, std::int64_t max_length) {
  check_argument(side >= 8, "draw_clip", "side", "must be at least 8, got " + std::to_string(side));
  check_argument(min_length >= 2 && max_length >= min_length, "draw_clip", "max_length",
                 "needs 2 <= min_length <= max_length, got " + std::to_string(min_length) + ", " +
                     std::to_string(max_length));
  CounterRng rng({seed, kDatasetStream, split, index});
  const auto label = static_cast<std::int32_t>(rng.below(kVideoClasses));
  const std::int64_t length = min_length + rng.below(max_length - min_length + 1);
  VideoClip clip = draw_first_of_pair(rng, label / 2, side);
  clip.length = length;
  clip.noise_key = CounterRng({seed, kVideoNoiseStream, split, index}).next();
  return (label & 1) ? reverse_clip(clip) : clip;
}

VideoClip reverse_clip(const VideoClip& clip) {
  VideoClip reversed = clip;
  std::swap(reversed.start, reversed.end);
  reversed.label = clip.label ^ 1;
  return reversed;
}

ShapeState shape_state(const VideoClip& clip, std::int64_t t) {
  const double u = clip.length > 1 ? static_cast<double>(t) / static_cast<double>(clip.length - 1) : 0.0;
  const ShapeState& a = clip.start;
  const ShapeState& b = clip.end;
  return {a.x + u * (b.x - a.x), a.y + u * (b.y - a.y), a.size * std::pow(b.size / a.size, u),
          a.angle + u * (b.angle - a.angle)};
}

void render_frame(const VideoClip& clip, std::int64_t t, float* out) {
  const std::int64_t side = clip.side;
  const ShapeState state = shape_state(clip, t);
  const ShapeBoxes shape = shape_boxes(clip.shape);
  const double cos_a = std::cos(state.angle), sin_a = std::sin(state.angle);
  CounterRng frame_rng({clip.noise_key, static_cast<std::uint64_t>(t)});
  // The frame's flicker: a square on this frame only.
  const bool flicker = !clip.clean && frame_rng.uniform() < kFlickerChance;
  const double fx = frame_rng.uniform(0, side), fy = frame_rng.uniform(0, side);
  const double fh = frame_rng.uniform(0.05, 0.08) * side, fi = frame_rng.uniform(0.5, 1.0);
  std::uint64_t bits = 0;
  int bits_left = 0;
  for (std::int64_t y = 0; y < side; ++y) {
    for (std::int64_t x = 0; x < side; ++x) {
      const double px = x + 0.5, py = y + 0.5;
      float v = 0.0f;
      if (!clip.clean) {
        for (const VideoClip::Disc& d : clip.discs) {
          // Pixels a radius and a pixel away are not covered (skipped: the same frame, faster).
          if (std::abs(px - d.x) > d.radius + 1 || std::abs(py - d.y) > d.radius + 1) continue;
          paint(v, coverage(std::hypot(px - d.x, py - d.y) - d.radius), d.intensity);
        }
      }
      // The shape's frame: p - centre rotated by -angle, in units of its half-length.
      const double dx = px - state.x, dy = py - state.y;
      const double lx = cos_a * dx + sin_a * dy, ly = -sin_a * dx + cos_a * dy;
      double inside = 1e9;
      // Every shape lies within 1.5 half-lengths of its centre: pixels beyond are not covered.
      const bool near = std::abs(dx) <= 1.5 * state.size + 1 && std::abs(dy) <= 1.5 * state.size + 1;
      for (int k = 0; near && k < shape.count; ++k) {
        const Box& b = shape.boxes[k];
        const double d = std::max(std::abs(lx - b.cx * state.size) - b.hx * state.size,
                                  std::abs(ly - b.cy * state.size) - b.hy * state.size);
        inside = std::min(inside, d);
      }
      paint(v, coverage(inside), clip.intensity);
      if (clip.clean) {
        out[y * side + x] = v;
        continue;
      }
      if (flicker) paint(v, coverage(std::max(std::abs(px - fx), std::abs(py - fy)) - fh), fi);
      if (clip.occluded) {
        const double across = clip.vertical_band ? px : py;
        paint(v, coverage(std::max(clip.band_from - across, across - clip.band_to)), kBandIntensity);
      }
      if (bits_left == 0) {
        bits = frame_rng.next();
        bits_left = 4;
      }
      const double noise = (static_cast<double>(bits & 0xFFFF) / 65535.0 * 2.0 - 1.0) * kNoise;
      bits >>= 16;
      --bits_left;
      out[y * side + x] = static_cast<float>(v + noise);
    }
  }
}

std::string describe_video_clips(std::int64_t side, std::int64_t min_length, std::int64_t max_length) {
  std::string names;
  for (const std::string& n : video_class_names()) names += (names.empty() ? "" : ", ") + n;
  return std::to_string(side) + "x" + std::to_string(side) + " greyscale clips of a shape among distractors, "
         "noise and an occluder, " + std::to_string(min_length) + ".." + std::to_string(max_length) +
         " frames, labelled by what it does over time (" + names + ")";
}

}  // namespace gpurnn::train::tasks
