// The video task's data: generated clips are a pure function of their key, their labels are what
// happens over time (a clip played backwards is the opposite class, with the same mean frame),
// batches are bucketed by length and zero past each clip's end, and a user's files are checked
// with errors naming the flag and what was expected.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numeric>

#include <gtest/gtest.h>
#include <unistd.h>

#include "gpurnn/io/npy.h"
#include "gpurnn/train/model.h"
#include "tasks/counter_rng.h"
#include "tasks/task_support.h"
#include "tasks/video_baseline.h"
#include "tasks/video_clips.h"
#include "tasks/video_files.h"
#include "tasks/video_source.h"
#include "test_support.h"

namespace gpurnn::testing {
namespace {

using train::tasks::ClipStore;
using train::tasks::draw_clip;
using train::tasks::GeneratedClips;
using train::tasks::kEvalStream;
using train::tasks::kTrainStream;
using train::tasks::render_frame;
using train::tasks::reverse_clip;
using train::tasks::VideoClip;

constexpr std::int64_t kSide = 16;

std::vector<float> frames_of(const VideoClip& clip) {
  std::vector<float> out(static_cast<std::size_t>(clip.length * clip.side * clip.side));
  for (std::int64_t t = 0; t < clip.length; ++t) render_frame(clip, t, out.data() + t * clip.side * clip.side);
  return out;
}

// Intensity-weighted moments of frame t of a clean clip: mass, centroid, and the orientation of
// the second central moments (radians, x right, y down; increasing = clockwise on screen).
struct Moments {
  double mass = 0, x = 0, y = 0, angle = 0;
};
Moments moments(const VideoClip& clip, std::int64_t t) {
  std::vector<float> f(static_cast<std::size_t>(clip.side * clip.side));
  render_frame(clip, t, f.data());
  Moments m;
  double xx = 0, yy = 0, xy = 0;
  for (std::int64_t y = 0; y < clip.side; ++y) {
    for (std::int64_t x = 0; x < clip.side; ++x) {
      const double v = f[static_cast<std::size_t>(y * clip.side + x)];
      m.mass += v, m.x += v * (x + 0.5), m.y += v * (y + 0.5);
    }
  }
  m.x /= m.mass, m.y /= m.mass;
  for (std::int64_t y = 0; y < clip.side; ++y) {
    for (std::int64_t x = 0; x < clip.side; ++x) {
      const double v = f[static_cast<std::size_t>(y * clip.side + x)];
      const double dx = x + 0.5 - m.x, dy = y + 0.5 - m.y;
      xx += v * dx * dx, yy += v * dy * dy, xy += v * dx * dy;
    }
  }
  m.angle = 0.5 * std::atan2(2 * xy, xx - yy);
  return m;
}

TEST(VideoClips, AreAPureFunctionOfTheirKey) {
  const VideoClip a = draw_clip(5, kTrainStream, 17, kSide, 6, 18);
  const VideoClip b = draw_clip(5, kTrainStream, 17, kSide, 6, 18);
  EXPECT_EQ(frames_of(a), frames_of(b));
  EXPECT_EQ(a.label, b.label);
  EXPECT_NE(frames_of(a), frames_of(draw_clip(6, kTrainStream, 17, kSide, 6, 18)));
  EXPECT_NE(frames_of(a), frames_of(draw_clip(5, kEvalStream, 17, kSide, 6, 18)));
  // Lengths in range, every class drawn.
  std::vector<int> per_class(train::tasks::kVideoClasses, 0);
  for (std::uint64_t n = 0; n < 400; ++n) {
    const VideoClip c = draw_clip(1, kTrainStream, n, kSide, 6, 18);
    EXPECT_GE(c.length, 6);
    EXPECT_LE(c.length, 18);
    ++per_class[static_cast<std::size_t>(c.label)];
  }
  for (int count : per_class) EXPECT_GT(count, 20);
}

// Time decides the label: a clip backwards is the opposite class with exactly the reversed
// frames (clean) and so the same mean frame.
TEST(VideoClips, PlayedBackwardsAreTheOppositeClassWithTheSameMeanFrame) {
  for (std::uint64_t n = 0; n < 16; ++n) {
    VideoClip clip = draw_clip(3, kTrainStream, n, kSide, 8, 12);
    clip.clean = true;
    const VideoClip back = reverse_clip(clip);
    EXPECT_EQ(back.label, clip.label ^ 1);
    EXPECT_NE(train::tasks::video_class_names()[back.label], train::tasks::video_class_names()[clip.label]);
    const std::vector<float> f = frames_of(clip), g = frames_of(back);
    const std::size_t frame = static_cast<std::size_t>(kSide * kSide);
    for (std::int64_t t = 0; t < clip.length; ++t) {
      const std::size_t r = static_cast<std::size_t>(clip.length - 1 - t);
      for (std::size_t k = 0; k < frame; ++k) {
        ASSERT_NEAR(f[static_cast<std::size_t>(t) * frame + k], g[r * frame + k], 1e-5) << "clip " << n << " t " << t;
      }
    }
  }
}

// What happens is what the label says: the centroid moves right/left/down/up, the mass grows or
// shrinks, the orientation turns clockwise or anticlockwise (on screen).
TEST(VideoClips, LabelsAreWhatHappensOverTime) {
  int checked = 0;
  for (std::uint64_t n = 0; n < 80; ++n) {
    VideoClip clip = draw_clip(9, kTrainStream, n, 24, 12, 16);
    clip.clean = true;
    clip.shape = train::tasks::VideoShape::bar;  // a bar's moments give its orientation
    const Moments first = moments(clip, 0), last = moments(clip, clip.length - 1);
    const double dx = last.x - first.x, dy = last.y - first.y;
    const double travel = 0.2 * 24;
    switch (clip.label) {
      case 0: EXPECT_GT(dx, travel); break;
      case 1: EXPECT_LT(dx, -travel); break;
      case 2: EXPECT_GT(dy, travel); break;
      case 3: EXPECT_LT(dy, -travel); break;
      case 4: EXPECT_GT(last.mass, 1.5 * first.mass); break;
      case 5: EXPECT_LT(1.5 * last.mass, first.mass); break;
      default: {  // the turn, frame to frame (each step well under a quarter turn)
        double turn = 0;
        for (std::int64_t t = 1; t < clip.length; ++t) {
          double d = moments(clip, t).angle - moments(clip, t - 1).angle;
          while (d > M_PI / 2) d -= M_PI;
          while (d < -M_PI / 2) d += M_PI;
          turn += d;
        }
        if (clip.label == 6) {
          EXPECT_GT(turn, 1.0) << "clockwise clip " << n;
        } else {
          EXPECT_LT(turn, -1.0) << "anticlockwise clip " << n;
        }
      }
    }
    ++checked;
  }
  EXPECT_EQ(checked, 80);
}

TEST(VideoSource, BatchesAreBucketedAndZeroPastEachClip) {
  std::vector<VideoClip> clips;
  for (std::uint64_t n = 0; n < 40; ++n) clips.push_back(draw_clip(2, kTrainStream, n, 8, 4, 12));
  auto store = std::make_shared<GeneratedClips>(clips);
  const train::tasks::VideoSource source(store, train::tasks::kVideoClasses, 8, 2, 2);
  EXPECT_EQ(source.batches_per_epoch(), 5);
  std::int64_t seen = 0;
  for (std::int64_t i = 0; i < source.batches_per_epoch(); ++i) {
    const train::Batch batch = source.batch(i);
    const train::Batch again = source.batch(i);
    EXPECT_EQ(to_vector(batch.inputs), to_vector(again.inputs));
    const std::int64_t steps = batch.inputs.dim(0), rows = batch.inputs.dim(1);
    ASSERT_EQ(batch.inputs.dim(2), 64);
    std::int32_t longest = 0;
    for (std::int64_t r = 0; r < rows; ++r) {
      const std::int32_t length = batch.lengths.data_as<std::int32_t>()[r];
      longest = std::max(longest, length);
      for (std::int64_t t = length; t < steps; ++t) {
        for (std::int64_t k = 0; k < 64; ++k) ASSERT_EQ(batch.inputs.data_as<float>()[(t * rows + r) * 64 + k], 0.0f);
      }
    }
    EXPECT_EQ(longest, steps);
    seen += rows;
  }
  EXPECT_EQ(seen, 40);
}

// The baseline cannot tell a clip from its reversal: on pairs of reversed clips it is at chance
// for the pair, while it does separate classes whose mean frames differ.
TEST(VideoBaseline, SeesNoOrder) {
  std::vector<VideoClip> train, eval;
  for (std::uint64_t n = 0; n < 200; ++n) {
    VideoClip c = draw_clip(4, kTrainStream, n, 8, 6, 8);
    c.label &= ~1;  // pairs merged: right/left, down/up, grow/shrink, turning
    train.push_back(c);
    train.push_back(reverse_clip(c));
    train.back().label = c.label | 1;
  }
  for (std::uint64_t n = 0; n < 100; ++n) {
    VideoClip c = draw_clip(4, kEvalStream, n, 8, 6, 8);
    c.label &= ~1;
    eval.push_back(c);
  }
  const GeneratedClips train_store(train), eval_store(eval);
  const double accuracy = train::tasks::mean_frame_accuracy(train_store, eval_store, train::tasks::kVideoClasses);
  EXPECT_LE(accuracy, 0.75);  // even-labelled eval clips: the odd twin is as likely
}

// What the mean frame does show, it learns: with each pair merged into one class (the axis of a
// motion, a size change, a turn), clean clips are told apart well above chance (0.25).
TEST(VideoBaseline, LearnsWhatTheMeanFrameShows) {
  std::vector<VideoClip> train, eval;
  for (std::uint64_t n = 0; n < 600; ++n) {
    for (const std::uint64_t split : {kTrainStream, kEvalStream}) {
      if (split == kEvalStream && n >= 200) continue;
      VideoClip c = draw_clip(8, split, n, 16, 10, 14);
      c.clean = true;
      c.label /= 2;
      (split == kTrainStream ? train : eval).push_back(c);
    }
  }
  const GeneratedClips train_store(train), eval_store(eval);
  const double accuracy = train::tasks::mean_frame_accuracy(train_store, eval_store, 4);
  std::printf("mean-frame accuracy on merged pairs (chance 0.25): %.3f\n", accuracy);
  EXPECT_GT(accuracy, 0.4);
}

// A features model with embedding > 0 projects each frame (a Linear layer) before its RNN.
TEST(VideoModel, FeaturesProjectionIsAParameterAndRecorded) {
  train::ModelConfig m;
  m.io = {train::InputKind::features, 64, train::TargetKind::final_classes, 8};
  m.hidden = 6;
  m.embedding = 5;
  train::SequenceModel model(m);
  bool found = false;
  for (const train::Parameter& p : model.parameters()) {
    if (p.name == "projection.weight") {
      found = true;
      EXPECT_EQ(p.value.shape(), (Shape{5, 64}));
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(model.rnn_descriptor().input_size, 5);
  for (const auto& [key, value] : model.architecture()) {
    if (key == "embedding") {
      EXPECT_EQ(value, "5");
    }
  }
  std::vector<VideoClip> clips;
  for (std::uint64_t n = 0; n < 4; ++n) clips.push_back(draw_clip(2, kTrainStream, n, 8, 3, 5));
  const train::tasks::VideoSource source(std::make_shared<GeneratedClips>(clips), 8, 4, 1, 1);
  const Tensor logits = model.predict(source.batch(0));
  EXPECT_EQ(logits.shape(), (Shape{4, 8}));
  m.embedding = 0;  // none: the pixels feed the RNN
  EXPECT_EQ(train::SequenceModel(m).rnn_descriptor().input_size, 64);
}

// ---- a user's files --------------------------------------------------------------------------

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// A uint8 .npy of `shape` (write_npy writes no u8).
void write_u8_npy(const std::string& path, const Shape& shape, std::uint8_t value) {
  std::string dims;
  for (std::int64_t d : shape) dims += std::to_string(d) + ", ";
  std::string header = "{'descr': '|u1', 'fortran_order': False, 'shape': (" + dims + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8);
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header;
  bytes += std::string(static_cast<std::size_t>(shape.numel()), static_cast<char>(value));
  write_text(path, bytes);
}

void write_i32(const std::string& path, const std::vector<std::int32_t>& v) {
  io::write_npy(path, Tensor::from_host<std::int32_t>({static_cast<std::int64_t>(v.size())}, v.data()));
}

class VideoFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write_u8_npy(video, {3, 4, 2, 5}, 51);
    write_i32(lengths, {4, 1, 3});
    write_text(labels, "walk\n run \r\nwalk\n");
  }
  void refused(const std::string& v, const std::string& l, const std::string& y,
               std::initializer_list<std::string> words, ErrorCode code = ErrorCode::invalid_argument) {
    expect_error([&] { train::tasks::read_video_files(v, l, y); }, code, words);
  }
  ScratchDir dir;
  std::string video = dir.file("v.npy"), lengths = dir.file("l.npy"), labels = dir.file("y.csv");
  std::string other = dir.file("other.npy");
};

TEST_F(VideoFilesTest, ReadsClipsLengthsAndSortedClassNames) {
  auto files = std::make_shared<train::tasks::VideoFiles>(train::tasks::read_video_files(video, lengths, labels));
  EXPECT_EQ(files->class_names, (std::vector<std::string>{"run", "walk"}));
  EXPECT_EQ(files->labels, (std::vector<std::int32_t>{1, 0, 1}));
  EXPECT_EQ(files->lengths, (std::vector<std::int32_t>{4, 1, 3}));
  const train::tasks::FileClips clips(files, {2, 0});
  EXPECT_EQ(clips.length(0), 3);
  EXPECT_EQ(clips.label(1), 1);
  std::vector<float> frame(10);
  clips.frame(0, 2, frame.data());
  EXPECT_FLOAT_EQ(frame[9], 0.2f);  // 51 / 255
  EXPECT_EQ(train::tasks::read_video_files(video, lengths, labels).hash, files->hash);
  write_text(labels, "walk\nrun\nrun\n");
  EXPECT_NE(train::tasks::read_video_files(video, lengths, labels).hash, files->hash);
}

TEST_F(VideoFilesTest, BadFilesNameTheFlagAndWhatWasExpected) {
  io::write_npy(other, Tensor::zeros({3, 4, 10}, DType::f32));
  refused(other, lengths, labels, {"--video", "rank 4", "[N, T, H, W]"});
  io::write_npy(other, Tensor::zeros({3, 4, 2, 5}, DType::f64));
  refused(other, lengths, labels, {"--video", "f64", "uint8 or float32"});
  Tensor nan = Tensor::zeros({3, 4, 2, 5}, DType::f32);
  nan.data_as<float>()[7] = NAN;
  io::write_npy(other, nan);
  refused(other, lengths, labels, {"--video", "non-finite", "7"});
  write_text(other, "not an array");
  refused(other, lengths, labels, {"--video", "not a .npy file"});
  refused(dir.file("missing.npy"), lengths, labels, {"--video", "missing.npy"}, ErrorCode::io_error);
  write_u8_npy(other, {3, 4, 300, 300}, 0);
  refused(other, lengths, labels, {"--video", "300x300", "65536"});

  write_i32(other, {4, 0, 3});
  refused(video, other, labels, {"--lengths", "clip 1", "length 0", "[1, 4]"});
  write_i32(other, {4, 5, 3});
  refused(video, other, labels, {"--lengths", "length 5", "[1, 4]"});
  write_i32(other, {4, 3});
  refused(video, other, labels, {"--lengths", "[2]", "expected [3]"});
  io::write_npy(other, Tensor::zeros({3}, DType::i64));
  refused(video, other, labels, {"--lengths", "i64", "int32"});

  write_text(other, "a\nb\n");
  refused(video, lengths, other, {"--labels", "2 lines", "expected 3"});
  write_text(other, "");
  refused(video, lengths, other, {"--labels", "is empty"});
  write_text(other, "a\n\nb\n");
  refused(video, lengths, other, {"--labels", "line 2 is empty"});
  write_text(other, "a\nb\x01x\nb\n");
  refused(video, lengths, other, {"--labels", "line 2", "control byte"});
  write_text(other, "a\n" + std::string(101, 'x') + "\nb\n");
  refused(video, lengths, other, {"--labels", "101 bytes"});
  write_text(other, "a\na\na\n");
  refused(video, lengths, other, {"--labels", "one class only"});
  // More classes than the limit: 1001 clips of one pixel, each its own label.
  write_u8_npy(other, {1001, 1, 1, 1}, 0);
  std::string many;
  for (int k = 0; k < 1001; ++k) many += "c" + std::to_string(k) + "\n";
  const std::string many_labels = dir.file("many.csv");
  write_text(many_labels, many);
  refused(other, "", many_labels, {"--labels", "1001 classes", "limit of 1000"});
}

TEST_F(VideoFilesTest, AFileOverTheLimitIsRefusedBeforeItIsRead) {
  // A sparse file one byte over 1 GiB: refused by its size, naming the limit.
  const std::string big = dir.file("big.npy");
  { std::ofstream(big, std::ios::binary); }
  ASSERT_EQ(::truncate(big.c_str(), static_cast<off_t>(train::tasks::kMaxDataFileBytes + 1)), 0);
  refused(big, lengths, labels, {"--video", "1073741825 bytes", "limit of 1073741824"});
}

TEST(VideoClassNames, RoundTripThroughTheirMetadataText) {
  const std::vector<std::string> names = {"a b", "x,y", "100%", "\xc3\xa9t\xc3\xa9"};
  const std::string text = train::tasks::class_names_text(names);
  EXPECT_EQ(text.find_first_of(" \x80"), std::string::npos);
  EXPECT_EQ(train::tasks::parse_class_names(text), names);
  EXPECT_TRUE(train::tasks::parse_class_names("a,,b").empty());
  EXPECT_TRUE(train::tasks::parse_class_names("a%G1").empty());
  EXPECT_TRUE(train::tasks::parse_class_names("a%4").empty());
}

}  // namespace
}  // namespace gpurnn::testing
