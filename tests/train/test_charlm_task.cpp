// charlm: the embedded corpus, the byte vocabulary, the held-out split and the unigram baseline.
#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "test_support.h"
#include "train/batch_test_support.h"
#include "tasks/data_record.h"
#include "tasks/embedded_corpus.h"
#include "tasks/task_registry.h"

namespace gpurnn::testing {
namespace {

using train::Batch;
using train::TaskOptions;

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(CharlmTask, EmbedsTheSourceTreeFileByFile) {
  const std::vector<std::string_view> documents = train::tasks::embedded_corpus();
  ASSERT_GT(documents.size(), 100u);
  // README.md is embedded byte for byte (the corpus lists it after every other file's path).
  const std::string readme = read_bytes(std::string(GPURNN_TEST_DATA_DIR) + "/../../README.md");
  ASSERT_FALSE(readme.empty());
  bool found = false;
  for (std::string_view document : documents) found = found || document == readme;
  EXPECT_TRUE(found);
  const auto task = train::make_task("charlm", {});
  EXPECT_NE(task->describe().find("embedded corpus"), std::string::npos) << task->describe();
}

TEST(CharlmTask, TokensMapBackToTheCorpusBytes) {
  TaskOptions options;
  options.seq_len = 50;
  const auto task = train::make_task("charlm", options);
  const std::int64_t vocabulary = task->interface().input_size;
  // One token per distinct byte of the embedded corpus (the source tree: any new character in a
  // comment adds one, so the count is computed, not fixed).
  std::string corpus;
  for (std::string_view document : train::tasks::embedded_corpus()) corpus += document;
  std::set<unsigned char> distinct(corpus.begin(), corpus.end());
  EXPECT_EQ(vocabulary, static_cast<std::int64_t>(distinct.size()));
  EXPECT_GT(vocabulary, 60);
  for (std::int32_t token = 1; token < vocabulary; ++token) {
    EXPECT_LT(static_cast<unsigned char>(task->token_text(token - 1)[0]),
              static_cast<unsigned char>(task->token_text(token)[0]));  // dense, in byte order
  }
  expect_error([&] { task->token_text(static_cast<std::int32_t>(vocabulary)); },
               ErrorCode::invalid_argument, {"token"});
  // A row's text, rebuilt through token_text, is a run of some embedded file.
  const Batch batch = task->train_data().batch(2);
  for (std::int64_t row = 0; row < batch.rows(); row += 7) {
    std::string text;
    for (std::int64_t t = 0; t < length_of(batch, row); ++t) {
      text += task->token_text(batch.inputs.data_as<std::int32_t>()[t * batch.rows() + row]);
    }
    text += task->token_text(batch.targets.data_as<std::int32_t>()[(length_of(batch, row) - 1) * batch.rows() + row]);
    EXPECT_NE(corpus.find(text), std::string::npos) << "row " << row << ": " << text;
  }
}

TEST(CharlmTask, UnigramBaselineOfATextFile) {
  ScratchDir dir;
  // 2,000 skewed random bytes: the last 100 are held out; seq_len 10 gives 9 evaluation lanes
  // of 11 positions, so every held-out target but the first is counted.
  std::mt19937 rng(3);
  std::string text;
  for (int i = 0; i < 2000; ++i) text += static_cast<char>('a' + std::min<unsigned>(rng() % 8, rng() % 8));
  write_file(dir.file("skewed.txt"), text);
  TaskOptions options;
  options.text_path = dir.file("skewed.txt");
  options.seq_len = 10;
  const auto task = train::make_task("charlm", options);
  ASSERT_EQ(task->interface().input_size, 8);
  for (std::int32_t token = 0; token < 8; ++token) EXPECT_EQ(task->token_text(token), std::string(1, static_cast<char>('a' + token)));
  std::vector<double> counts(8, 1.0);
  for (int i = 0; i < 1900; ++i) counts[static_cast<std::size_t>(text[static_cast<std::size_t>(i)] - 'a')] += 1.0;
  double bits = 0.0;
  for (int i = 1901; i < 2000; ++i) bits -= std::log2(counts[static_cast<std::size_t>(text[static_cast<std::size_t>(i)] - 'a')] / (1900.0 + 8.0));
  bits /= 99.0;
  EXPECT_NEAR(std::stod(report_value(*task, {}, "unigram_bits")), bits, 1e-3 * bits);
  EXPECT_LT(bits, 2.9);  // skewed: below the 3 bits of 8 equally likely symbols
  train::EvalResult result;
  result.mean_loss = 3.0 * std::log(2.0);
  EXPECT_EQ(report_value(*task, result, "bits_per_char"), "3");
  EXPECT_EQ(task->report(result).front().first, "bits_per_char");
}

// Issue 32: what a checkpoint records of charlm's data. The byte-to-id table as a setting (read
// back by gpurnn generate, compared by a resume), and the source: the embedded corpus's hash is
// the same for every run of a build.
TEST(CharlmTask, RecordsItsVocabularyAndSource) {
  const auto task = train::make_task("charlm", TaskOptions{});
  std::map<std::string, std::string> settings, record;
  for (const auto& [key, value] : task->settings()) settings[key] = value;
  for (const auto& [key, value] : task->data_record()) record[key] = value;
  const auto bytes = train::tasks::parse_vocabulary(settings.at("vocab"));
  ASSERT_TRUE(bytes.has_value()) << settings.at("vocab");
  ASSERT_EQ(static_cast<std::int64_t>(bytes->size()), task->interface().input_size);
  for (std::size_t id = 0; id < bytes->size(); ++id) {
    EXPECT_EQ(task->token_text(static_cast<std::int32_t>(id)), bytes->substr(id, 1));
  }
  EXPECT_EQ(record.at("source"), "built-in");
  EXPECT_EQ(record.at("hash").rfind("fnv1a64:", 0), 0u);
  for (const auto& [key, value] : train::make_task("charlm", TaskOptions{})->data_record()) {
    EXPECT_EQ(record.at(key), value) << key;
  }
  EXPECT_EQ(train::tasks::vocabulary_text(std::string("\n a\xff", 4)), "0a2061ff");
  for (const char* bad : {"", "0a2", "0a0a", "200a", "zz", "0A"}) {
    EXPECT_FALSE(train::tasks::parse_vocabulary(bad).has_value()) << bad;
  }
}

TEST(CharlmTask, BadTextFilesAndSizes) {
  ScratchDir dir;
  TaskOptions options;
  options.text_path = dir.file("absent.txt");
  expect_error([&] { train::make_task("charlm", options); }, ErrorCode::io_error,
               {"make_task(charlm)", "text", "absent.txt"});
  write_file(dir.file("empty.txt"), "");
  options.text_path = dir.file("empty.txt");
  expect_error([&] { train::make_task("charlm", options); }, ErrorCode::invalid_argument,
               {"text", "empty.txt", "empty"});
  write_file(dir.file("small.txt"), std::string(300, 'x') + "yz");
  options.text_path = dir.file("small.txt");
  options.seq_len = 500;
  expect_error([&] { train::make_task("charlm", options); }, ErrorCode::invalid_argument,
               {"seq_len", "500", "larger than the data", "small.txt"});
  options.seq_len = 50;
  options.batch = 8;
  expect_error([&] { train::make_task("charlm", options); }, ErrorCode::invalid_argument,
               {"batch", "8"});
  write_file(dir.file("tiny.txt"), "abcdefghijklmnopqrstuvwxyz");
  options = {};
  options.text_path = dir.file("tiny.txt");
  options.seq_len = 5;
  expect_error([&] { train::make_task("charlm", options); }, ErrorCode::invalid_argument,
               {"held-out", "tiny.txt"});
}

// Issue 32: the n-gram baseline beside the unigram (tests/train/test_char_ngram.cpp tests the
// model). On i.i.d. bytes it chooses order 1 and is the unigram within smoothing; on a text that
// repeats it is far below it.
TEST(CharlmTask, NgramBaselineBesideTheUnigram) {
  ScratchDir dir;
  std::mt19937 rng(3);
  std::string skewed, repeated;
  for (int i = 0; i < 4000; ++i) skewed += static_cast<char>('a' + std::min<unsigned>(rng() % 8, rng() % 8));
  for (int i = 0; i < 100; ++i) repeated += "for (int i = 0; i < n; ++i) sum += x[i];\n";
  write_file(dir.file("skewed.txt"), skewed);
  write_file(dir.file("repeated.txt"), repeated);
  TaskOptions options;
  options.seq_len = 10;
  options.text_path = dir.file("skewed.txt");
  const auto iid = train::make_task("charlm", options);
  std::vector<std::string> keys;
  for (const auto& [key, value] : iid->report({})) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"bits_per_char", "unigram_bits", "ngram_bits", "ngram_order"}));
  EXPECT_EQ(report_value(*iid, {}, "ngram_order"), "1");
  EXPECT_NEAR(std::stod(report_value(*iid, {}, "ngram_bits")), std::stod(report_value(*iid, {}, "unigram_bits")), 0.01);
  options.text_path = dir.file("repeated.txt");
  const auto code = train::make_task("charlm", options);
  EXPECT_LT(std::stod(report_value(*code, {}, "ngram_bits")), 0.3);
  EXPECT_GT(std::stod(report_value(*code, {}, "unigram_bits")), 3.5);
  EXPECT_GE(std::stoi(report_value(*code, {}, "ngram_order")), 4);
}

}  // namespace
}  // namespace gpurnn::testing
