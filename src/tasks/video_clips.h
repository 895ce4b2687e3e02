#pragma once
// The video task's generated clips: small greyscale frames in which one shape moves, grows or
// shrinks, or turns, among distractors, under noise and an occluder; the label is what happens
// over time, which no single frame (nor the mean frame) shows.
//
// A clip of length L has one main shape (a bar, an L or a T; intensity in [0.6, 1]) whose state
// (centre, size, angle) goes from a start state to an end state linearly over the frames (size
// geometrically). The classes come in opposite pairs, class k's opposite is k ^ 1:
//   right / left, down / up:   the centre travels 25-45% of the frame along the axis; the path's
//                              midpoint is uniform, so where a clip starts says nothing
//   grow / shrink:             the size changes by a factor 1.7-2.3, the centre stays
//   clockwise / anticlockwise: the angle turns 90-160 degrees (on screen, y down), the centre stays
// Distractors: 1-2 static discs (intensity 0.25-0.6), and on each frame with probability 0.25 a
// small square that lasts that frame only. With probability 0.5 a static occluding band (a
// third of the frame's width, intensity 0.15) covers part of the frame, hiding what passes
// behind it. Every pixel gets uniform noise in [-0.12, 0.12]. Pixels are in about [-0.12, 1.12].
//
// A clip's reversal (reverse_clip) swaps its start and end states and takes the opposite class:
// the same frames in the opposite order (in clean clips exactly), the same mean frame, the
// other label.

#include <cstdint>
#include <string>
#include <vector>

#include "tasks/counter_rng.h"

namespace gpurnn::train::tasks {

constexpr std::int32_t kVideoClasses = 8;
constexpr std::int64_t kVideoSide = 24;  // the generated frames of `gpurnn train video`: 24x24
// "right", "left", "down", "up", "grow", "shrink", "clockwise", "anticlockwise".
const std::vector<std::string>& video_class_names();

enum class VideoShape : std::int32_t { bar, ell, tee };

// Where the main shape is at a frame: centre (pixels, x right, y down), half-length, angle.
struct ShapeState {
  double x = 0, y = 0, size = 0, angle = 0;
};

struct VideoClip {
  std::int32_t label = 0;
  std::int64_t length = 0;  // frames
  std::int64_t side = 0;    // frames are side x side pixels
  VideoShape shape = VideoShape::bar;
  double intensity = 1.0;
  ShapeState start, end;
  struct Disc {
    double x, y, radius, intensity;
  };
  std::vector<Disc> discs;  // static distractors
  bool occluded = false;
  bool vertical_band = false;  // the occluder: a vertical band (else horizontal)
  double band_from = 0, band_to = 0;
  bool clean = false;  // no noise, no distractors, no occluder (for tests)
  std::uint64_t noise_key = 0;  // keys the per-frame noise and flicker
};

// Clip `index` of `split` (kTrainStream, kEvalStream): a pure function of its arguments.
// Lengths are uniform in [min_length, max_length]; side >= 8.
VideoClip draw_clip(std::uint64_t seed, std::uint64_t split, std::uint64_t index, std::int64_t side,
                    std::int64_t min_length, std::int64_t max_length);

// The same clip played backwards, with the opposite label.
VideoClip reverse_clip(const VideoClip& clip);

// The main shape's state at frame t in [0, length).
ShapeState shape_state(const VideoClip& clip, std::int64_t t);

// Frame t as side*side floats, row-major (y, then x), into `out`.
void render_frame(const VideoClip& clip, std::int64_t t, float* out);

// "<side>x<side> greyscale clips of 8 classes (...), <min>..<max> frames".
std::string describe_video_clips(std::int64_t side, std::int64_t min_length, std::int64_t max_length);

}  // namespace gpurnn::train::tasks
