// `gpurnn train video` and `gpurnn run --checkpoint --video` end to end: a few steps on the
// generated clips and on a user's files, each clip classified by the saved model (the same on the
// cpu and a virtual device), and bad input refused with a message naming the flag.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "gpurnn/io/npy.h"
#include "tasks/video_clips.h"
#include "test_support.h"

#ifndef GPURNN_CLI_PATH
#error "GPURNN_CLI_PATH must name the gpurnn executable"
#endif

namespace gpurnn::testing {
namespace {

CommandResult gpurnn_cli(const std::string& args) {
  return run_command(std::string(GPURNN_CLI_PATH) + " " + args + " 2>&1");
}
CommandResult train(const std::string& args) { return gpurnn_cli("train --device cpu --progress none " + args); }

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Generated clips as a user's file: f32 [n, frames, side, side] and their lengths.
void write_clips(const std::string& video, const std::string& lengths, std::int64_t n, std::int64_t frames,
                 std::int64_t side) {
  Tensor v = Tensor::zeros({n, frames, side, side}, DType::f32);
  std::vector<std::int32_t> l;
  for (std::int64_t k = 0; k < n; ++k) {
    const train::tasks::VideoClip clip =
        train::tasks::draw_clip(7, 9, static_cast<std::uint64_t>(k), side, frames / 2, frames);
    for (std::int64_t t = 0; t < clip.length; ++t) {
      train::tasks::render_frame(clip, t, v.data_as<float>() + (k * frames + t) * side * side);
    }
    l.push_back(static_cast<std::int32_t>(clip.length));
  }
  io::write_npy(video, v);
  io::write_npy(lengths, Tensor::from_host<std::int32_t>({n}, l.data()));
}

// The lines of `run --video`: "<index>\t<class>\t<probability>", each class one of `names`.
void expect_classified(const std::string& output, std::int64_t clips, const std::set<std::string>& names) {
  std::istringstream in(output);
  std::string line;
  std::int64_t index = 0;
  while (std::getline(in, line)) {
    if (line.rfind("gpurnn run:", 0) == 0) continue;
    std::istringstream fields(line);
    std::string number, name, probability;
    ASSERT_TRUE(std::getline(fields, number, '\t') && std::getline(fields, name, '\t') &&
                std::getline(fields, probability))
        << line;
    EXPECT_EQ(number, std::to_string(index++));
    EXPECT_TRUE(names.count(name)) << line;
    const double p = std::stod(probability);
    EXPECT_GT(p, 1.0 / static_cast<double>(names.size()) - 1e-4);
    EXPECT_LE(p, 1.0);
  }
  EXPECT_EQ(index, clips) << output;
}

TEST(VideoCli, TrainsOnGeneratedClipsThenClassifiesClipsOnAnyDevice) {
  ScratchDir dir;
  const std::string model = dir.file("video.safetensors");
  const CommandResult r = train("video --steps 2 --hidden 8 --seq-len 6 --batch 4 --eval-batches 2 --save " + model);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "gpurnn train video: lstm")) << r.output;
  EXPECT_TRUE(contains(r.output, "24x24 greyscale clips")) << r.output;
  const std::size_t last = r.output.rfind("result: task=video device=cpu accuracy=");
  ASSERT_NE(last, std::string::npos) << r.output;
  EXPECT_TRUE(contains(r.output.substr(last), " chance_accuracy=")) << r.output;
  EXPECT_TRUE(contains(r.output.substr(last), " mean_frame_accuracy=")) << r.output;

  const std::string clips = dir.file("clips.npy"), lengths = dir.file("lengths.npy");
  write_clips(clips, lengths, 3, 6, train::tasks::kVideoSide);
  const std::vector<std::string>& all = train::tasks::video_class_names();
  const std::set<std::string> names(all.begin(), all.end());
  const std::string args = "run --checkpoint " + model + " --video " + clips + " --lengths " + lengths;
  const CommandResult cpu = run_command(std::string(GPURNN_CLI_PATH) + " " + args + " --device cpu");
  ASSERT_EQ(cpu.exit_code, 0) << cpu.output;
  expect_classified(cpu.output, 3, names);
  const CommandResult virt =
      run_command("GPURNN_VIRTUAL_DEVICES=1 " + std::string(GPURNN_CLI_PATH) + " " + args + " --device virtual:0");
  ASSERT_EQ(virt.exit_code, 0) << virt.output;
  // The same classes and probabilities (the last line names the device).
  EXPECT_EQ(virt.output.substr(0, virt.output.find("gpurnn run:")), cpu.output.substr(0, cpu.output.find("gpurnn run:")));
  EXPECT_TRUE(contains(virt.output, "on virtual:0")) << virt.output;

  // Clips of another frame size, or flags of the other modes: refused naming them.
  write_clips(dir.file("small.npy"), dir.file("small_lengths.npy"), 2, 4, 10);
  const CommandResult small = gpurnn_cli("run --device cpu --checkpoint " + model + " --video " + dir.file("small.npy"));
  EXPECT_NE(small.exit_code, 0);
  EXPECT_TRUE(contains(small.output, "--video")) << small.output;
  EXPECT_TRUE(contains(small.output, "10x10 pixels")) << small.output;
  EXPECT_TRUE(contains(small.output, "trained on 24x24")) << small.output;
  const CommandResult text = gpurnn_cli("run --checkpoint " + model + " --video " + clips + " --text x");
  EXPECT_NE(text.exit_code, 0);
  EXPECT_TRUE(contains(text.output, "--text does not apply with --checkpoint and --video")) << text.output;
  const CommandResult no_checkpoint = gpurnn_cli("run --video " + clips);
  EXPECT_NE(no_checkpoint.exit_code, 0);
  EXPECT_TRUE(contains(no_checkpoint.output, "--video applies only with --checkpoint")) << no_checkpoint.output;
}

TEST(VideoCli, TrainsOnAUsersClipsAndTheCheckpointKeepsTheClassNames) {
  ScratchDir dir;
  const std::string video = dir.file("v.npy"), lengths = dir.file("l.npy"), labels = dir.file("labels.csv");
  write_clips(video, lengths, 10, 4, 8);
  std::ofstream(labels) << "wave\nwave\nnod\nwave\nnod\nnod\nshake\nwave\nshake\nnod\n";
  const std::string model = dir.file("m.safetensors");
  const std::string files = " --video " + video + " --lengths " + lengths + " --labels " + labels;
  const CommandResult r = train("video --steps 2 --hidden 8 --batch 4" + files + " --save " + model);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "10 of up to 4 frames of 8x8 pixels (float32), 3 classes; 9 training and 1 held-out"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "result: task=video")) << r.output;
  const CommandResult run = gpurnn_cli("run --device cpu --checkpoint " + model + " --video " + video);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  expect_classified(run.output, 10, {"nod", "shake", "wave"});
  // Resumed with the same files: accepted; without them: refused saying what to give.
  const CommandResult resumed = train("--resume " + model + " --steps 3" + files);
  EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
  const CommandResult bare = train("--resume " + model + " --steps 3");
  EXPECT_NE(bare.exit_code, 0);
  EXPECT_TRUE(contains(bare.output, "give --video, --lengths and --labels again")) << bare.output;
}

TEST(VideoCli, BadInputIsAClearErrorAndLeavesNoCheckpoint) {
  ScratchDir dir;
  const std::string video = dir.file("v.npy"), lengths = dir.file("l.npy"), labels = dir.file("labels.csv");
  write_clips(video, lengths, 4, 4, 8);
  std::ofstream(labels) << "a\nb\na\n";
  const std::string model = dir.file("m.safetensors");
  const auto refused = [&](const std::string& args, std::initializer_list<std::string> words) {
    const CommandResult r = train(args + " --steps 1 --save " + model);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
    for (const std::string& w : words) EXPECT_TRUE(contains(r.output, w)) << args << "\n" << r.output;
    EXPECT_TRUE(dir.entries().size() == 3) << args << ": something was written";
  };
  refused("video --video " + video + " --lengths " + lengths + " --labels " + labels,
          {"--labels", "has 3 lines, expected 4"});
  refused("video --video " + video + " --lengths " + video + " --labels " + labels, {"--lengths", "expected int32"});
  refused("video --video " + lengths + " --labels " + labels, {"--video", "expected rank 4"});
  refused("video --video " + video, {"--labels FILE.csv"});
  refused("video --lengths " + lengths, {"--lengths and --labels need --video"});
  refused("classify --video " + video, {"--video does not apply to task classify"});
  refused("video --video " + video + " --labels " + labels + " --seq-len 9", {"seq_len", "generated clips only"});
  refused("video --video " + dir.file("none.npy") + " --labels " + labels, {"--video", "none.npy"});
  // A checkpoint of another task is not a video model.
  const std::string adding = dir.file("adding.safetensors");
  ASSERT_EQ(train("adding --steps 1 --hidden 4 --seq-len 5 --save " + adding).exit_code, 0);
  const CommandResult other = gpurnn_cli("run --device cpu --checkpoint " + adding + " --video " + video);
  EXPECT_NE(other.exit_code, 0);
  EXPECT_TRUE(contains(other.output, "holds a model of task 'adding'")) << other.output;
}

}  // namespace
}  // namespace gpurnn::testing
