// `gpurnn train` for the output-sequence tasks and `gpurnn run --checkpoint`: a short run of each
// task reports decoded metrics and ends with the result line; a saved model decodes text inputs
// from a file or stdin, greedily or with a beam, to stdout or a file; resume keeps the encoder-
// decoder's architecture; bad input is a clear message and a non-zero exit, nothing half-written.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "checkpoint_edit.h"
#include "test_support.h"

#ifndef GPURNN_CLI_PATH
#error "GPURNN_CLI_PATH must name the gpurnn executable"
#endif

namespace gpurnn::testing {
namespace {

CommandResult gpurnn(const std::string& args) {
  return run_command(std::string(GPURNN_CLI_PATH) + " " + args + " 2>&1");
}

CommandResult train(const std::string& args) {
  return gpurnn("train --device cpu --progress none --eval-examples 20 --batch 8 " + args);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

void write_file(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }
// `text` written to `name` in `dir`; its path.
std::string write_lines(const ScratchDir& dir, const std::string& name, const std::string& text) {
  write_file(dir.file(name), text);
  return dir.file(name);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct TaskRun {
  const char* task;
  const char* architecture;  // what the first line says
  const char* metric;        // a key of the decoded report
};

class Seq2SeqCli : public ::testing::TestWithParam<TaskRun> {};

TEST_P(Seq2SeqCli, ShortRunReportsDecodedMetrics) {
  const TaskRun& t = GetParam();
  const CommandResult r = train(std::string(t.task) + " --steps 3 --hidden 16 --beam 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "gpurnn train " + std::string(t.task) + ": " + t.architecture)) << r.output;
  EXPECT_TRUE(contains(r.output, "\nbefore: tf_loss ")) << r.output;
  const std::size_t last = r.output.rfind("result: task=" + std::string(t.task) + " device=cpu ");
  ASSERT_NE(last, std::string::npos) << r.output;
  EXPECT_EQ(r.output.find('\n', last), r.output.size() - 1) << "the result line must be the last line";
  EXPECT_TRUE(contains(r.output.substr(last), " " + std::string(t.metric) + "=")) << r.output;
  EXPECT_TRUE(contains(r.output.substr(last), " beam=2 steps=3 seconds=")) << r.output;
}

INSTANTIATE_TEST_SUITE_P(Train, Seq2SeqCli,
                         ::testing::Values(TaskRun{"translate", "encoder-decoder (lstm", "bleu"},
                                           TaskRun{"sort", "pointer network (lstm", "position_accuracy"},
                                           TaskRun{"convex-hull", "pointer network (lstm", "area_coverage"},
                                           TaskRun{"tsp", "pointer network (lstm", "nn_tour"}),
                         [](const auto& p) { return std::string(p.param.task == std::string("convex-hull") ? "hull" : p.param.task); });

TEST(Seq2SeqCliRun, SavedModelDecodesTextInputs) {
  ScratchDir dir;
  const std::string ckpt = dir.path() + "/tsp.safetensors";
  const CommandResult trained = train("tsp --steps 2 --hidden 16 --attention general --bidirectional --save " + ckpt);
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  EXPECT_TRUE(contains(trained.output, "bidirectional encoder, general attention")) << trained.output;
  write_file(dir.path() + "/points.txt", "0 0 1 0 1 1 0 1\n\n0.5 0.5, 0.1 0.2, 0.9 0.3, 0.4 0.8, 0.2 0.9\n");
  const CommandResult out = gpurnn("run --checkpoint " + ckpt + " --text " + dir.path() + "/points.txt --beam 3");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_TRUE(contains(out.output, "tour: 0 ")) << out.output;
  EXPECT_TRUE(contains(out.output, "2 input(s) decoded with beam 3")) << out.output;
  // From stdin to a file (written whole); the same input decodes the same way.
  const CommandResult to_file = run_command("echo '0 0 1 0 1 1 0 1' | " + std::string(GPURNN_CLI_PATH) + " run --checkpoint " +
                                            ckpt + " --text - --beam 3 --output " + dir.path() + "/tours.txt 2>&1");
  ASSERT_EQ(to_file.exit_code, 0) << to_file.output;
  const std::string first_line = out.output.substr(0, out.output.find('\n') + 1);
  EXPECT_EQ(read_file(dir.path() + "/tours.txt"), first_line);
  // Resume keeps the architecture: another attention is refused, naming both.
  const CommandResult other = train("--resume " + ckpt + " --attention dot");
  EXPECT_NE(other.exit_code, 0);
  EXPECT_TRUE(contains(other.output, "--attention dot does not match the checkpoint")) << other.output;
  EXPECT_TRUE(contains(other.output, "trained with general")) << other.output;
  const CommandResult resumed = train("--resume " + ckpt + " --steps 4");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_TRUE(contains(resumed.output, "resumed from " + ckpt + " at step 2")) << resumed.output;
  EXPECT_TRUE(contains(resumed.output, "result: task=tsp")) << resumed.output;
}

TEST(Seq2SeqCliRun, TranslateKeepsItsReversedSource) {
  ScratchDir dir;
  const std::string ckpt = dir.path() + "/tr.safetensors";
  ASSERT_EQ(train("translate --steps 2 --hidden 16 --reverse-source --save " + ckpt).exit_code, 0);
  // Resuming without --reverse-source would feed the words the other way round: refused.
  const CommandResult forward = train("translate --resume " + ckpt + " --steps 3");
  EXPECT_NE(forward.exit_code, 0);
  EXPECT_TRUE(contains(forward.output, "task.reverse_source=1")) << forward.output;
  EXPECT_EQ(train("translate --resume " + ckpt + " --steps 3 --reverse-source").exit_code, 0);
  const CommandResult decoded = run_command("echo 'twelve' | " + std::string(GPURNN_CLI_PATH) + " run --checkpoint " + ckpt +
                                            " --text - 2>&1");
  EXPECT_EQ(decoded.exit_code, 0) << decoded.output;
}

// Issue 34: flipped data bytes decoded quietly. `run --checkpoint` verifies the checksum; a
// checkpoint of an older build (no checksum) still decodes; bad metadata numbers name the key.
TEST(Seq2SeqCliRun, ChangedCheckpointIsRefusedAndAnOlderOneStillDecodes) {
  ScratchDir dir;
  const std::string ckpt = dir.file("sort.ck");
  ASSERT_EQ(train("sort --steps 1 --hidden 8 --save " + ckpt).exit_code, 0);
  const std::string input = write_lines(dir, "in.txt", "0.3 0.1 0.2\n");
  const std::string flipped = dir.file("flipped.ck");
  std::filesystem::copy_file(ckpt, flipped);
  flip_byte(flipped);
  const CommandResult bad = gpurnn("run --checkpoint " + flipped + " --text " + input);
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_TRUE(contains(bad.output, "flipped.ck")) << bad.output;
  EXPECT_TRUE(contains(bad.output, "checksum mismatch: the file was changed or corrupted")) << bad.output;
  const std::string points = dir.file("points.ck");
  rewrite_checkpoint(ckpt, points, [](CheckpointTensors&, CheckpointMetadata& m) { m["task.points"] = "-8"; });
  const CommandResult negative = gpurnn("run --checkpoint " + points + " --text " + input);
  EXPECT_EQ(negative.exit_code, 2) << negative.output;
  EXPECT_TRUE(contains(negative.output, "points.ck': metadata 'task.points' is '-8'")) << negative.output;
  const std::string hidden = dir.file("hidden.ck");
  rewrite_checkpoint(ckpt, hidden, [](CheckpointTensors&, CheckpointMetadata& m) { m["hidden"] = "8.4"; });
  const CommandResult fraction = gpurnn("run --checkpoint " + hidden + " --text " + input);
  EXPECT_EQ(fraction.exit_code, 2) << fraction.output;
  EXPECT_TRUE(contains(fraction.output, "metadata 'hidden' is '8.4', expected an integer")) << fraction.output;

  const std::string older = dir.file("older.ck");
  strip_checksum(ckpt, older);
  const CommandResult fresh = gpurnn("run --checkpoint " + ckpt + " --text " + input);
  const CommandResult old = gpurnn("run --checkpoint " + older + " --text " + input);
  ASSERT_EQ(fresh.exit_code, 0) << fresh.output;
  ASSERT_EQ(old.exit_code, 0) << old.output;
  EXPECT_TRUE(contains(old.output, "order: ")) << old.output;
}

TEST(Seq2SeqCliRun, BadInputIsAClearErrorAndWritesNothing) {
  ScratchDir dir;
  const std::string ckpt = dir.path() + "/tr.safetensors";
  ASSERT_EQ(train("translate --steps 1 --hidden 8 --save " + ckpt).exit_code, 0);
  const std::string charlm = dir.path() + "/lm.safetensors";
  ASSERT_EQ(gpurnn("train adding --device cpu --progress none --steps 1 --hidden 8 --seq-len 5 --save " + charlm).exit_code, 0);
  write_file(dir.path() + "/words.txt", "twelve\nthe fourteenth of smarch\n");
  write_file(dir.path() + "/empty.txt", "\n\n");
  const std::string out = dir.path() + "/out.txt";
  struct Case {
    std::string args, expected;
  };
  const std::string sort_ckpt = dir.path() + "/sort.safetensors";
  ASSERT_EQ(train("sort --steps 1 --hidden 8 --save " + sort_ckpt).exit_code, 0);
  std::string many;
  for (int k = 0; k < 5000; ++k) many += std::to_string(k % 97) + " ";
  write_file(dir.path() + "/many.txt", many + "\n");
  const Case cases[] = {
      // Non-finite or out-of-f32 numbers (issue 34: `order: 0 0 0  sorted: nan nan nan`, exit 0).
      {"run --checkpoint " + sort_ckpt + " --text " + write_lines(dir, "nan.txt", "0.1 0.2\nnan 0.2 0.3\n") +
           " --output " + out, "line 2: sort: 'nan' in the input is not a finite number"},
      {"run --checkpoint " + sort_ckpt + " --text " + write_lines(dir, "inf.txt", "0.1 -inf 0.3\n") + " --output " + out,
       "'-inf' in the input is not a finite number"},
      {"run --checkpoint " + sort_ckpt + " --text " + write_lines(dir, "big.txt", "0.1 1e39\n") + " --output " + out,
       "'1e39' in the input is not a finite number within float32's range"},
      {"run --checkpoint " + sort_ckpt + " --text " + write_lines(dir, "huge.txt", "1e999\n") + " --output " + out,
       "'1e999' in the input is not a finite number"},
      // Unbounded decoding (issue 34: 5,000 numbers ran past 60 s; --beam 1000000 was accepted).
      {"run --checkpoint " + sort_ckpt + " --text " + dir.path() + "/many.txt --output " + out,
       "holds 5000 input positions, more than the 81 decoded per line (10x the 8 points"},
      {"run --checkpoint " + sort_ckpt + " --text " + write_lines(dir, "ok.txt", "0.3 0.1\n") + " --beam 1000000 --output " + out,
       "--beam' must be in [1, 256]"},
      {"run --checkpoint " + ckpt + " --text " + dir.path() + "/words.txt --output " + out, "line 2: translate: the word 'smarch'"},
      {"run --checkpoint " + ckpt + " --text " + dir.path() + "/empty.txt --output " + out, "has no input lines"},
      {"run --checkpoint " + ckpt + " --output " + out, "--checkpoint needs --text"},
      {"run --checkpoint " + charlm + " --text " + dir.path() + "/words.txt --output " + out, "holds a sequence model"},
      {"run --checkpoint " + dir.path() + "/words.txt --text " + dir.path() + "/words.txt --output " + out, "words.txt"},
      {"run --checkpoint " + ckpt + " --text " + dir.path() + "/words.txt --beam -2 --output " + out, "--beam"},
      {"run --input x.npy --output " + out, "--weights is required"},
      {"train tsp --device cpu --points 1 --save " + out, "points"},
      {"train translate --device cpu --attention cosine --save " + out, "--attention"},
      {"train sort --device cpu --teacher-forcing 1.5 --save " + out, "teacher_forcing"},
      {"train sort --device cpu --beam 0 --steps 1 --save " + out, "--beam"},
      {"train tsp --device cpu --hidden 7 --bidirectional --save " + out, "hidden"},
  };
  for (const Case& c : cases) {
    const CommandResult r = gpurnn(c.args);
    EXPECT_NE(r.exit_code, 0) << c.args << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, c.expected)) << c.args << "\n" << r.output;
    EXPECT_FALSE(std::filesystem::exists(out)) << c.args;
  }
}

}  // namespace
}  // namespace gpurnn::testing
