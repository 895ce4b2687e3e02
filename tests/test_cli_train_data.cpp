// Issue 32, self-describing checkpoints: a checkpoint records its data (the source file's path,
// size and content hash, or the built-in generator), charlm's byte-to-id table and timeseries'
// normalisation and horizon. `gpurnn train --resume` reuses the recorded file, refuses one whose
// content differs (naming the file and both hashes) or another byte-to-id mapping, and the Ctrl-C
// hint, typed as printed, continues the same run. Older checkpoints still resume.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "checkpoint_edit.h"
#include "test_support.h"

#ifndef GPURNN_CLI_PATH
#error "GPURNN_CLI_PATH must name the gpurnn executable"
#endif

namespace gpurnn::testing {
namespace {

const std::string kCli = GPURNN_CLI_PATH;

CommandResult train(const std::string& args) {
  return run_command(kCli + " train --device cpu --progress none " + args + " 2>&1");
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

void write_file(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::string hash_of(const std::string& path) {
  const std::string bytes = read_bytes(path);
  train::checkpoint_detail::ContentHash hash;
  hash.add(bytes.data(), bytes.size());
  return hash.text();
}

std::string metadata(const std::string& checkpoint, const std::string& key) {
  const io::SafetensorsReader file(checkpoint);
  const auto it = file.metadata().find(key);
  return it == file.metadata().end() ? "(absent)" : it->second;
}

// `n` lines over the bytes of `alphabet` (a text whose vocabulary is exactly those bytes).
std::string text_of(const std::string& alphabet, int n) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < alphabet.size(); ++k) text += alphabet[(i * 7 + k * 3) % alphabet.size()];
    text += '\n';
  }
  return text;
}

const std::string kTinyCharlm = "charlm --hidden 8 --embedding 4 --seq-len 10 --batch 4 --sample 0 --eval-batches 1";

// The hint after SIGINT, typed as printed (with the data file's name needing shell quotes, and
// flags a checkpoint does not record), ends in the very checkpoint the uninterrupted run writes.
TEST(TrainCliData, ResumeHintTypedAsPrintedContinuesTheRun) {
  ScratchDir dir;
  const std::string text = dir.file("my text's.txt");  // a space and a quote: shell-quoted
  write_file(text, text_of("abcdefgh .", 300));
  const std::string flags = kTinyCharlm + " --steps 6000 --optimizer sgd --clip 0.5 --text '" + dir.path() +
                            "/my text'\\''s.txt'";
  ASSERT_EQ(train(flags + " --save " + dir.file("whole.ck")).exit_code, 0);
  const std::string log = dir.file("log.txt");
  write_file(dir.file("signal.sh"), kCli + " train --device cpu --progress none " + flags + " --save " +
                                        dir.file("part.ck") + " > " + log +
                                        " 2>&1 &\npid=$!\nn=0\nwhile ! grep -q '^before:' " + log +
                                        " && [ $n -lt 3000 ]; do sleep 0.01; n=$((n+1)); done\nkill -INT $pid\n"
                                        "wait $pid\nrc=$?\ncat " + log + "\nexit $rc\n");
  const CommandResult stopped = run_command("bash " + dir.file("signal.sh"));
  ASSERT_EQ(stopped.exit_code, 130) << stopped.output;
  const std::size_t at = stopped.output.find("(continue with: ");
  ASSERT_NE(at, std::string::npos) << stopped.output;
  const std::size_t end = stopped.output.rfind(")\n");
  ASSERT_GT(end, at) << stopped.output;
  const std::string hint = stopped.output.substr(at + 16, end - at - 16);
  for (const std::string& part : std::vector<std::string>{"gpurnn train --resume " + dir.file("part.ck") + " --save " + dir.file("part.ck"),
                                 " --text '" + dir.path() + "/my text'\\''s.txt'", " --optimizer sgd", " --clip 0.5",
                                 " --device cpu"}) {
    EXPECT_TRUE(contains(hint, part)) << part << "\n" << hint;
  }
  ASSERT_EQ(hint.rfind("gpurnn ", 0), 0u) << hint;
  const CommandResult resumed = run_command(kCli + hint.substr(6) + " 2>&1");
  ASSERT_EQ(resumed.exit_code, 0) << hint << "\n" << resumed.output;
  EXPECT_TRUE(contains(resumed.output, "resumed from " + dir.file("part.ck"))) << resumed.output;
  EXPECT_EQ(read_bytes(dir.file("part.ck")), read_bytes(dir.file("whole.ck")));
}

// The checkpoint records the text; a resume without --text reads it again, and refuses it once it
// is gone or changed, naming the file and both hashes.
TEST(TrainCliData, ResumeWithoutTextReusesTheRecordedText) {
  ScratchDir dir;
  const std::string text = dir.file("corpus.txt");
  write_file(text, text_of("abcdefgh .", 100));
  const std::string ck = dir.file("c.ck");
  ASSERT_EQ(train(kTinyCharlm + " --steps 2 --text " + text + " --save " + ck).exit_code, 0);
  const std::string absolute = std::filesystem::absolute(text).lexically_normal().string();
  EXPECT_EQ(metadata(ck, "format_version"), "4");
  EXPECT_EQ(metadata(ck, "data.source"), "file");
  EXPECT_EQ(metadata(ck, "data.path"), absolute);
  EXPECT_EQ(metadata(ck, "data.bytes"), std::to_string(read_bytes(text).size()));
  EXPECT_EQ(metadata(ck, "data.hash"), hash_of(text));
  EXPECT_EQ(metadata(ck, "task.vocab"), "0a202e6162636465666768");  // '\n', ' ', '.', 'a' ... 'h'

  const CommandResult resumed = train("--resume " + ck + " --steps 4");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_TRUE(contains(resumed.output, "data: '" + absolute + "'")) << resumed.output;
  EXPECT_TRUE(contains(resumed.output, "resumed from " + ck + " at step 2")) << resumed.output;

  const std::string before = hash_of(text);
  write_file(text, text_of("abcdefgh .", 101));
  const CommandResult changed = train("--resume " + ck + " --steps 4");
  EXPECT_EQ(changed.exit_code, 2) << changed.output;
  for (const std::string& part : std::vector<std::string>{"'" + absolute + "' has changed since the checkpoint " + ck, before, hash_of(text)}) {
    EXPECT_TRUE(contains(changed.output, part)) << part << "\n" << changed.output;
  }
  std::filesystem::remove(text);
  const CommandResult gone = train("--resume " + ck + " --steps 4");
  EXPECT_EQ(gone.exit_code, 2) << gone.output;
  for (const std::string& part : std::vector<std::string>{"'" + absolute + "'", before, "not there now: give --text FILE"}) {
    EXPECT_TRUE(contains(gone.output, part)) << part << "\n" << gone.output;
  }
  // The recorded path is untrusted input: a relative path or a control byte is refused.
  for (const std::string& bad : std::vector<std::string>{"corpus.txt", absolute + "\x1b[2J"}) {
    rewrite_checkpoint(ck, dir.file("bad.ck"), [&](CheckpointTensors&, CheckpointMetadata& m) { m["data.path"] = bad; });
    const CommandResult r = train("--resume " + dir.file("bad.ck") + " --steps 4");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_TRUE(contains(r.output, "metadata 'data.path' is ")) << r.output;
    EXPECT_TRUE(contains(r.output, "expected an absolute file path")) << r.output;
    EXPECT_FALSE(contains(r.output, "\x1b")) << r.output;
  }
}

// A changed CSV, or another file, is refused naming both hashes; the same content under another
// name is accepted, with the recorded column and horizon.
TEST(TrainCliData, ResumeWithTheCsvChangedIsRefusedNamingBothHashes) {
  ScratchDir dir;
  const std::string csv = dir.file("series.csv");
  std::string rows = "t,y\n";
  for (int i = 0; i < 200; ++i) rows += std::to_string(i) + "," + std::to_string((i * 37) % 23) + "\n";
  write_file(csv, rows);
  const std::string ck = dir.file("ts.ck");
  ASSERT_EQ(train("timeseries --hidden 8 --seq-len 10 --batch 4 --horizon 2 --steps 2 --csv " + csv +
                  " --column y --save " + ck)
                .exit_code,
            0);
  EXPECT_EQ(metadata(ck, "data.column"), "y");
  EXPECT_EQ(metadata(ck, "task.horizon"), "2");
  EXPECT_NE(metadata(ck, "data.mean"), "(absent)");
  EXPECT_NE(metadata(ck, "data.std"), "(absent)");
  const std::string before = hash_of(csv);

  write_file(dir.file("copy.csv"), rows);
  const CommandResult copy = train("--resume " + ck + " --steps 3 --csv " + dir.file("copy.csv"));
  ASSERT_EQ(copy.exit_code, 0) << copy.output;
  EXPECT_TRUE(contains(copy.output, "column 'y' of '" + dir.file("copy.csv") + "'")) << copy.output;
  EXPECT_TRUE(contains(copy.output, "horizon 2,")) << copy.output;

  write_file(dir.file("other.csv"), rows + "200,5\n");
  const CommandResult other = train("--resume " + ck + " --steps 3 --csv " + dir.file("other.csv"));
  EXPECT_EQ(other.exit_code, 2) << other.output;
  for (const std::string& part : std::vector<std::string>{"--csv " + dir.file("other.csv") + " is not the data of the checkpoint " + ck,
                                 before, hash_of(dir.file("other.csv"))}) {
    EXPECT_TRUE(contains(other.output, part)) << part << "\n" << other.output;
  }
  write_file(csv, rows + "200,5\n");
  const CommandResult changed = train("--resume " + ck + " --steps 3");
  EXPECT_EQ(changed.exit_code, 2) << changed.output;
  for (const std::string& part : std::vector<std::string>{"series.csv' has changed since the checkpoint", before, hash_of(csv)}) {
    EXPECT_TRUE(contains(changed.output, part)) << part << "\n" << changed.output;
  }
}

// Issue 32: a text of the same alphabet size but another byte-to-id mapping was accepted. An
// older checkpoint (no data record, no vocabulary) still resumes, and says that --text is missing
// rather than "input_size=76 ... input_size=127".
TEST(TrainCliData, CharlmResumeWithAnotherMappingIsRefusedAndOlderCheckpointsStillResume) {
  ScratchDir dir;
  write_file(dir.file("a.txt"), text_of("abcd", 200));
  write_file(dir.file("e.txt"), text_of("abce", 200));
  const std::string ck = dir.file("a.ck");
  ASSERT_EQ(train(kTinyCharlm + " --steps 2 --text " + dir.file("a.txt") + " --save " + ck).exit_code, 0);
  const CommandResult other = train("--resume " + ck + " --steps 4 --text " + dir.file("e.txt"));
  EXPECT_EQ(other.exit_code, 2) << other.output;
  EXPECT_TRUE(contains(other.output, "--text " + dir.file("e.txt") + " maps bytes to ids differently from the "
                                     "checkpoint " + ck + " (5 symbols there, 5 here): id 4 is byte 'd' there and "
                                     "'e' here"))
      << other.output;

  const std::string older = dir.file("older.ck");
  rewrite_checkpoint(ck, older, [](CheckpointTensors&, CheckpointMetadata& m) {
    for (auto it = m.begin(); it != m.end();) it = it->first.rfind("data.", 0) == 0 ? m.erase(it) : std::next(it);
    m.erase("task.vocab");
    m["format_version"] = "2";
  });
  const CommandResult resumed = train("--resume " + older + " --steps 3 --text " + dir.file("a.txt") + " --save " +
                                      dir.file("renewed.ck"));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_TRUE(contains(resumed.output, "records no data source (an older gpurnn wrote it)")) << resumed.output;
  EXPECT_EQ(metadata(dir.file("renewed.ck"), "data.hash"), hash_of(dir.file("a.txt")));  // now recorded
  const CommandResult no_text = train("--resume " + older + " --steps 3");
  EXPECT_EQ(no_text.exit_code, 2) << no_text.output;
  EXPECT_TRUE(contains(no_text.output, "was trained on data of 5 symbols")) << no_text.output;
  EXPECT_TRUE(contains(no_text.output, "give the --text FILE it was trained on")) << no_text.output;
  strip_checksum(older, dir.file("oldest.ck"));  // format_version 1: no checksum either
  EXPECT_EQ(train("--resume " + dir.file("oldest.ck") + " --steps 3 --text " + dir.file("a.txt")).exit_code, 0);
}

}  // namespace
}  // namespace gpurnn::testing
