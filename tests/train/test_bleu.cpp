// Corpus BLEU on hand-computed cases; the arithmetic of each is in its comment.
#include <cmath>
#include <sstream>

#include <gtest/gtest.h>

#include "test_support.h"
#include "tasks/bleu.h"

namespace gpurnn::testing {
namespace {

using train::corpus_bleu;
using Tokens = std::vector<std::string>;
using Corpus = std::vector<Tokens>;

Tokens words(const std::string& text) {
  std::istringstream in(text);
  Tokens tokens;
  for (std::string w; in >> w;) tokens.push_back(w);
  return tokens;
}

TEST(CorpusBleu, IdenticalCorpusScoresOne) {
  const Corpus corpus{words("the cat sat on the mat"), words("a dog barked at the postman")};
  EXPECT_EQ(corpus_bleu(corpus, corpus), 1.0);
}

TEST(CorpusBleu, PapinenisClippedUnigrams) {
  // "the" 7 times against a reference holding it twice: the count is clipped to 2, so
  // p1 = 2 / 7; c = 7 > r = 6, no brevity penalty.
  const Corpus candidate{words("the the the the the the the")};
  const Corpus reference{words("the cat is on the mat")};
  EXPECT_NEAR(corpus_bleu(candidate, reference, 1), 2.0 / 7.0, 1e-15);
}

TEST(CorpusBleu, BrevityPenalty) {
  // p1 = 2/2, p2 = 1/1: precisions 1. c = 2 < r = 6: BP = exp(1 - 6/2) = exp(-2).
  EXPECT_NEAR(corpus_bleu({words("the cat")}, {words("the cat sat on the mat")}, 2),
              std::exp(-2.0), 1e-15);
  // Longer than the reference: no reward. p1 = 2/3 ("the", "cat"; "sat" unmatched),
  // p2 = 1/2 ("the cat"): sqrt(1/3); c = 3 > r = 2, BP = 1.
  EXPECT_NEAR(corpus_bleu({words("the cat sat")}, {words("the cat")}, 2), std::sqrt(1.0 / 3.0),
              1e-15);
}

TEST(CorpusBleu, ZeroHigherOrderPrecisionGivesZero) {
  // "a b c d" against "a b c e": p1 = 3/4, p2 = 2/3, p3 = 1/2, p4 = 0/1.
  const Corpus candidate{words("a b c d")};
  const Corpus reference{words("a b c e")};
  EXPECT_EQ(corpus_bleu(candidate, reference), 0.0);
  // Up to trigrams: (3/4 * 2/3 * 1/2)^(1/3) = (1/4)^(1/3); c = r = 4.
  EXPECT_NEAR(corpus_bleu(candidate, reference, 3), std::cbrt(0.25), 1e-15);
  // A candidate too short to have a bigram: p2 = 0/0 counts as 0.
  EXPECT_EQ(corpus_bleu({words("a")}, {words("a")}, 2), 0.0);
}

TEST(CorpusBleu, CorpusSumsAreNotAnAverageOfSentenceScores) {
  // Sentence 1 matches exactly: p1 = 4/4, p2 = 3/3. Sentence 2 "a b x y" against "a b c d":
  // p1 = 2/4, p2 = 1/3, its own BLEU-2 sqrt(1/2 * 1/3) = sqrt(1/6). Their mean would be
  // (1 + sqrt(1/6)) / 2 = 0.70412; the corpus sums p1 = 6/8, p2 = 4/6, so
  // BLEU-2 = sqrt(3/4 * 2/3) = sqrt(1/2) = 0.70711. c = r = 8.
  const Corpus candidates{words("a b c d"), words("a b x y")};
  const Corpus references{words("a b c d"), words("a b c d")};
  EXPECT_NEAR(corpus_bleu({candidates[1]}, {references[1]}, 2), std::sqrt(1.0 / 6.0), 1e-15);
  EXPECT_NEAR(corpus_bleu(candidates, references, 2), std::sqrt(0.5), 1e-15);
  // The brevity penalty is corpus-level too: one candidate short by 2 and one long by 2 give
  // c = r = 7 and no penalty. p1 = (2 + 3) / (2 + 5) = 5/7 with unigram clipping of "x x".
  const Corpus uneven{words("a b"), words("c d x x x")};
  EXPECT_NEAR(corpus_bleu(uneven, {words("a b e f"), words("c d x")}, 1), 5.0 / 7.0, 1e-15);
}

TEST(CorpusBleu, EmptyCorpusAndBadArguments) {
  EXPECT_EQ(corpus_bleu({}, {}), 0.0);
  EXPECT_EQ(corpus_bleu({Tokens{}}, {words("a b")}), 0.0);
  expect_error([] { corpus_bleu({words("a")}, {}); }, ErrorCode::invalid_argument,
               {"corpus_bleu", "references"});
  expect_error([] { corpus_bleu({words("a")}, {words("a")}, 0); }, ErrorCode::invalid_argument,
               {"corpus_bleu", "max_order"});
}

}  // namespace
}  // namespace gpurnn::testing
