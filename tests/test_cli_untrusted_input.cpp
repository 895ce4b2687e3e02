// What users feed the `gpurnn` command, as they typed it (issue 34): names and text from files
// reach error messages quoted, never as raw terminal control bytes and never at unbounded length
// (item 6), and inputs that could grow without end are refused naming the limit (item 5).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "gpurnn/io/npy.h"
#include "test_support.h"

#ifndef GPURNN_CLI_PATH
#error "GPURNN_CLI_PATH must name the gpurnn executable"
#endif

namespace gpurnn::testing {
namespace {

const std::string kCli = GPURNN_CLI_PATH;

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// A safetensors file with one F32 tensor of shape [1] under `name` (JSON text: escapes allowed).
std::string safetensors_image(const std::string& json_name) {
  const std::string header = "{\"" + json_name + "\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
  std::string out;
  for (int i = 0; i < 8; ++i) out += static_cast<char>(static_cast<std::uint64_t>(header.size()) >> (8 * i));
  return out + header + std::string(4, '\0');
}

bool has_control_bytes(const std::string& text) {
  for (unsigned char c : text) {
    if ((c < 0x20 && c != '\n') || c == 0x7f) return true;
  }
  return false;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

class CliUntrustedInput : public ::testing::Test {
 protected:
  std::string path(const std::string& name) const { return dir_.file(name); }
  ScratchDir dir_;
};

// Item 6: a tensor named ESC[2J ESC[31m EVIL ESC]0;owned BEL cleared the screen and set the window
// title; a 50 MB name put 50 MB on stderr.
TEST_F(CliUntrustedInput, TensorNamesInMessagesAreEscapedAndCut) {
  io::write_npy(path("x.npy"), Tensor::zeros({2, 1, 1}, DType::f32));
  write_file(path("evil.safetensors"), safetensors_image("\\u001b[2J\\u001b[31mEVIL\\u001b]0;owned\\u0007"));
  const CommandResult evil = run_command(kCli + " run --weights " + path("evil.safetensors") + " --input " +
                                         path("x.npy") + " --output " + path("y.npy"));
  EXPECT_EQ(evil.exit_code, 2) << evil.output;
  EXPECT_FALSE(has_control_bytes(evil.output)) << evil.output;
  EXPECT_NE(evil.output.find("tensor '\\x1b[2J\\x1b[31mEVIL\\x1b]0;owned\\x07'"), std::string::npos) << evil.output;
  EXPECT_LT(evil.output.size(), 1000u) << evil.output;

  write_file(path("long.safetensors"), safetensors_image(std::string(50000000, 'a')));
  const CommandResult long_name = run_command(kCli + " run --weights " + path("long.safetensors") + " --input " +
                                              path("x.npy") + " --output " + path("y.npy"));
  EXPECT_EQ(long_name.exit_code, 2) << long_name.output.substr(0, 2000);
  EXPECT_LT(long_name.output.size(), 4000u) << long_name.output.substr(0, 2000);
  EXPECT_NE(long_name.output.find("...(49999920 more bytes)"), std::string::npos) << long_name.output.substr(0, 2000);
  EXPECT_FALSE(std::filesystem::exists(path("y.npy")));
}

// Item 6: a binary CSV header and a binary cell, printed raw.
TEST_F(CliUntrustedInput, CsvHeaderAndCellsInMessagesAreEscaped) {
  write_file(path("binary.csv"), "\x1b]0;owned\x07,\xff\xfe\n1,2\n");
  const CommandResult header = run_command(kCli + " train timeseries --progress none --steps 1 --csv " +
                                           path("binary.csv") + " --column value");
  EXPECT_EQ(header.exit_code, 2) << header.output;
  EXPECT_FALSE(has_control_bytes(header.output)) << header.output;
  EXPECT_NE(header.output.find("'\\x1b]0;owned\\x07', '\\xff\\xfe'"), std::string::npos) << header.output;

  std::string rows = "value\n";
  for (int i = 0; i < 100; ++i) rows += "1.5\n";
  write_file(path("cell.csv"), rows + "\x1b[2J" + std::string(1000000, '9') + "x\n");
  const CommandResult cell = run_command(kCli + " train timeseries --progress none --steps 1 --csv " +
                                         path("cell.csv") + " --column value");
  EXPECT_EQ(cell.exit_code, 2) << cell.output.substr(0, 2000);
  EXPECT_FALSE(has_control_bytes(cell.output)) << cell.output.substr(0, 2000);
  EXPECT_NE(cell.output.find("line 102"), std::string::npos) << cell.output.substr(0, 2000);
  EXPECT_LT(cell.output.size(), 1000u) << cell.output.substr(0, 2000);
}

// Item 9, the CSV cases as a user hits them: a spreadsheet's byte-order mark made the first
// column '\xef\xbb\xbfvalue' (not found), a header naming the column twice took the first
// silently, and an unterminated quote was read as a field running to the end of the line.
TEST_F(CliUntrustedInput, CsvByteOrderMarkDuplicateColumnsAndOpenQuotes) {
  std::string rows;
  for (int i = 0; i < 200; ++i) rows += std::to_string(i % 7) + ".5\n";
  write_file(path("bom.csv"), "\xEF\xBB\xBFvalue\n" + rows);
  const CommandResult bom = run_command(kCli + " train timeseries --progress none --steps 1 --hidden 8 --csv " +
                                        path("bom.csv") + " --column value");
  EXPECT_EQ(bom.exit_code, 0) << bom.output;

  std::string pairs = "value,value\n";
  for (int i = 0; i < 200; ++i) pairs += "1,2\n";
  write_file(path("twice.csv"), pairs);
  const CommandResult twice = run_command(kCli + " train timeseries --progress none --steps 1 --csv " +
                                          path("twice.csv") + " --column value");
  EXPECT_EQ(twice.exit_code, 2) << twice.output;
  EXPECT_NE(twice.output.find("names twice (columns 1 and 2)"), std::string::npos) << twice.output;

  write_file(path("open.csv"), "time,value\n1,2\n2,\"3\n3,4\n");
  const CommandResult open = run_command(kCli + " train timeseries --progress none --steps 1 --csv " +
                                         path("open.csv") + " --column value");
  EXPECT_EQ(open.exit_code, 2) << open.output;
  EXPECT_NE(open.output.find("line 3: a quoted field has no closing quote"), std::string::npos) << open.output;
}

// Item 5: `run --checkpoint --text -` from /dev/zero grew without bound. A line longer than the
// limit (and a stream of more lines than the limit) is refused at once, naming the limit and the
// line, with a short message.
TEST_F(CliUntrustedInput, DecodeInputFromAPipeIsBounded) {
  const std::string ck = path("translate.safetensors");
  const CommandResult trained = run_command(kCli + " train translate --device cpu --progress none --steps 1 --hidden 8 "
                                                   "--batch 4 --eval-examples 4 --save " + ck);
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  auto start = std::chrono::steady_clock::now();
  const CommandResult long_line = run_command("head -c 2000000 /dev/zero | tr '\\0' 'a' | " + kCli +
                                              " run --checkpoint " + ck + " --text -");
  EXPECT_EQ(long_line.exit_code, 2) << long_line.output.substr(0, 2000);
  EXPECT_NE(long_line.output.find("--text - line 1: is longer than the limit of 1048576 bytes"), std::string::npos)
      << long_line.output.substr(0, 2000);
  EXPECT_LT(long_line.output.size(), 1000u) << long_line.output.substr(0, 2000);
  EXPECT_LT(seconds_since(start), 20.0);

  // As reported: /dev/zero itself, which never ends (`timeout` turns a hang into a failure).
  start = std::chrono::steady_clock::now();
  const CommandResult zeros = run_command("timeout 60 " + kCli + " run --checkpoint " + ck + " --text - < /dev/zero");
  EXPECT_EQ(zeros.exit_code, 2) << "(124: it ran on)\n" << zeros.output.substr(0, 2000);
  EXPECT_NE(zeros.output.find("is longer than the limit of 1048576 bytes"), std::string::npos)
      << zeros.output.substr(0, 2000);
  EXPECT_LT(seconds_since(start), 20.0);

  const CommandResult many = run_command("yes '' | head -n 100001 | " + kCli + " run --checkpoint " + ck + " --text -");
  EXPECT_EQ(many.exit_code, 2) << many.output.substr(0, 2000);
  EXPECT_NE(many.output.find("--text - line 100001: more lines than the limit of 100000"), std::string::npos)
      << many.output.substr(0, 2000);

  // Within the limits, stdin and a file decode as before; line numbers count blank lines.
  const CommandResult fine = run_command("printf '\\ntwelve\\n\\nforty two\\n' | " + kCli + " run --checkpoint " + ck +
                                         " --text -");
  EXPECT_EQ(fine.exit_code, 0) << fine.output;
  EXPECT_NE(fine.output.find("2 input(s) decoded"), std::string::npos) << fine.output;
  write_file(path("in.txt"), "twelve\n\nthe fourteenth of \x1b[2Jsmarch\n");
  const CommandResult bad = run_command(kCli + " run --checkpoint " + ck + " --text " + path("in.txt"));
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("line 3: translate: the word '\\x1b[2jsmarch'"), std::string::npos) << bad.output;
  EXPECT_FALSE(has_control_bytes(bad.output)) << bad.output;
}

// Item 5: --text and --csv files over the documented 1 GiB limit are refused before they are
// read (a 2 GB sparse --text used 11.6 GB). The files are sparse: no disk space is used.
TEST_F(CliUntrustedInput, TrainingDataFilesOverTheLimitAreRefused) {
  const std::uintmax_t over = (std::uintmax_t{1} << 30) + 1;
  write_file(path("big.txt"), "");
  std::filesystem::resize_file(path("big.txt"), over);
  write_file(path("big.csv"), "value\n");
  std::filesystem::resize_file(path("big.csv"), over);
  const auto start = std::chrono::steady_clock::now();
  const CommandResult text = run_command(kCli + " train charlm --progress none --steps 1 --text " + path("big.txt"));
  EXPECT_EQ(text.exit_code, 2) << text.output;
  EXPECT_NE(text.output.find("is 1073741825 bytes, more than the limit of 1073741824 bytes (1 GiB)"),
            std::string::npos) << text.output;
  const CommandResult csv = run_command(kCli + " train timeseries --progress none --steps 1 --csv " +
                                        path("big.csv") + " --column value");
  EXPECT_EQ(csv.exit_code, 2) << csv.output;
  EXPECT_NE(csv.output.find("more than the limit of 1073741824 bytes (1 GiB)"), std::string::npos) << csv.output;
  EXPECT_LT(seconds_since(start), 20.0);
}

}  // namespace
}  // namespace gpurnn::testing
