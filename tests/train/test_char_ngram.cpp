// charlm's n-gram baseline (src/tasks/char_ngram.h): interpolated Witten–Bell, exact by hand on
// a tiny text, a distribution at every order, backing off from unseen contexts, near zero bits on
// a text that repeats, the order chosen on the validation part, and deterministic.
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tasks/char_ngram.h"
#include "test_support.h"

namespace gpurnn::testing {
namespace {

using train::tasks::char_ngram_baseline;
using train::tasks::CharNgram;
using train::tasks::NgramBaseline;
using train::tasks::TextSpan;

std::vector<std::uint8_t> tokens_of(const std::string& text, char first = 'a') {
  std::vector<std::uint8_t> tokens;
  for (char c : text) tokens.push_back(static_cast<std::uint8_t>(c - first));
  return tokens;
}

std::vector<TextSpan> whole(const std::vector<std::uint8_t>& tokens) {
  return {{0, 0, static_cast<std::int64_t>(tokens.size())}};
}

// A Markov source of order `depth` over `vocabulary` symbols: the next symbol is a fixed function
// of the previous `depth` with probability 1 - noise, else uniform.
std::vector<std::uint8_t> markov_text(int vocabulary, int depth, double noise, std::size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> text;
  for (std::size_t i = 0; i < size; ++i) {
    std::uint32_t state = 7;
    for (int d = 1; d <= depth && static_cast<std::size_t>(d) <= i; ++d) state = state * 31 + text[i - static_cast<std::size_t>(d)];
    const bool random = std::uniform_real_distribution<double>(0.0, 1.0)(rng) < noise;
    const std::uint32_t next = random ? rng() : (state * 2654435761u) >> 7;
    text.push_back(static_cast<std::uint8_t>(next % static_cast<std::uint32_t>(vocabulary)));
  }
  return text;
}

TEST(CharNgram, WittenBellByHand) {
  // "aab" over {a, b, c}: c(a) = 2, c(b) = 1, N = 3, T = 2; after "a": a once, b once.
  CharNgram model(3, 2);
  const auto tokens = tokens_of("aab");
  model.add(tokens, whole(tokens));
  const std::uint8_t a = 0;
  EXPECT_NEAR(model.probability(nullptr, 0, 1, 1), (1 + 2.0 / 3) / (3 + 2), 1e-15);  // P1(b) = 1/3
  EXPECT_NEAR(model.probability(nullptr, 0, 2, 1), (0 + 2.0 / 3) / (3 + 2), 1e-15);  // unseen c
  EXPECT_NEAR(model.probability(&a, 1, 1, 2), (1 + 2 * (1.0 / 3)) / (2 + 2), 1e-15);  // 5/12
  // An order-2 model with no history, and after "b" (never followed by anything): the unigram.
  const std::uint8_t b = 1;
  EXPECT_EQ(model.probability(nullptr, 0, 1, 2), model.probability(nullptr, 0, 1, 1));
  EXPECT_EQ(model.probability(&b, 1, 0, 2), model.probability(&b, 1, 0, 1));
}

TEST(CharNgram, ProbabilitiesSumToOneOverTheAlphabetAtEveryOrder) {
  const auto text = markov_text(20, 3, 0.3, 20000, 1);
  CharNgram model(23, CharNgram::kMaxOrder);  // 3 symbols never seen
  model.add(text, whole(text));
  std::mt19937 rng(2);
  for (int trial = 0; trial < 60; ++trial) {
    // Histories from the text (seen contexts) and random ones (mostly unseen), of every length.
    const std::size_t length = rng() % 12;
    std::vector<std::uint8_t> history(length);
    const std::size_t at = rng() % (text.size() - 12);
    for (std::size_t i = 0; i < length; ++i) history[i] = trial % 2 == 0 ? text[at + i] : static_cast<std::uint8_t>(rng() % 23);
    for (int order = 1; order <= CharNgram::kMaxOrder; ++order) {
      double sum = 0.0;
      for (std::int32_t symbol = 0; symbol < 23; ++symbol) {
        const double p = model.probability(history.data(), static_cast<std::int64_t>(length), symbol, order);
        EXPECT_GT(p, 0.0);
        sum += p;
      }
      EXPECT_NEAR(sum, 1.0, 1e-12) << "trial " << trial << ", order " << order;
    }
  }
}

TEST(CharNgram, OrderOneIsTheSmoothedUnigramWhateverTheHistory) {
  const auto text = markov_text(12, 2, 0.5, 5000, 3);
  CharNgram model(14, 5);
  // Two documents, counted in two calls: counts add up.
  model.add(text, {{0, 0, 3000}});
  model.add(text, {{3000, 3000, 5000}});
  std::vector<double> counts(14, 0.0);
  for (std::uint8_t token : text) counts[token] += 1.0;
  double types = 0.0;
  for (double count : counts) types += count > 0 ? 1.0 : 0.0;
  const std::vector<std::uint8_t> history = {3, 1, 4, 1, 5};
  for (std::int32_t symbol = 0; symbol < 14; ++symbol) {
    const double unigram = (counts[static_cast<std::size_t>(symbol)] + types / 14.0) / (5000.0 + types);
    EXPECT_NEAR(model.probability(history.data(), 5, symbol, 1), unigram, 1e-15) << symbol;
    EXPECT_NEAR(model.probability(nullptr, 0, symbol, 5), unigram, 1e-15) << symbol;  // no history
  }
  // bits() at order 1 is the unigram's cross-entropy.
  const auto held = markov_text(12, 2, 0.5, 400, 4);
  double expected = 0.0;
  for (std::uint8_t token : held) expected -= std::log2((counts[token] + types / 14.0) / (5000.0 + types));
  EXPECT_NEAR(model.bits(held, whole(held))[0], expected, 1e-9 * expected);
}

TEST(CharNgram, UnseenContextsBackOffToTheLongestSeenOne) {
  const auto text = tokens_of("abcabcabcabdabcabcabd");
  CharNgram model(5, 4);  // e never seen
  model.add(text, whole(text));
  const auto ba = tokens_of("ba"), a = tokens_of("a"), eab = tokens_of("eab"), ab = tokens_of("ab"), e = tokens_of("e");
  for (std::int32_t symbol = 0; symbol < 5; ++symbol) {
    // "ba" never occurs: order 3 after "ba" is order 2 after "a".
    EXPECT_EQ(model.probability(ba.data(), 2, symbol, 3), model.probability(a.data(), 1, symbol, 2));
    // "eab": order 4 backs off to "ab" (order 3).
    EXPECT_EQ(model.probability(eab.data(), 3, symbol, 4), model.probability(ab.data(), 2, symbol, 3));
    // A never-seen symbol as the context: the unigram.
    EXPECT_EQ(model.probability(e.data(), 1, symbol, 4), model.probability(nullptr, 0, symbol, 1));
  }
  // After "ab": c twice as often as d, and e (never seen) still has some mass.
  EXPECT_GT(model.probability(ab.data(), 2, 2, 3), model.probability(ab.data(), 2, 3, 3));
  EXPECT_GT(model.probability(ab.data(), 2, 4, 3), 0.0);
  EXPECT_LT(model.probability(ab.data(), 2, 4, 3), model.probability(nullptr, 0, 4, 1));
}

TEST(CharNgram, ATextThatRepeatsIsPredictedAlmostForFree) {
  const std::string phrase = "the quick brown fox jumps over the lazy dog; ";
  std::string train, held;
  for (int i = 0; i < 300; ++i) train += phrase;
  for (int i = 0; i < 10; ++i) held += phrase;
  const auto tokens = tokens_of(train, ' '), scored = tokens_of(held, ' ');
  CharNgram model(96, CharNgram::kMaxOrder);
  model.add(tokens, whole(tokens));
  const std::vector<double> bits = model.bits(scored, whole(scored));
  const auto n = static_cast<double>(scored.size());
  EXPECT_GT(bits[0] / n, 3.5);  // the unigram: ~4 bits
  EXPECT_LT(bits[CharNgram::kMaxOrder - 1] / n, 0.05);
  // Beyond the order where every context determines the next byte ("the " is followed by q and by
  // l, so that needs 5 bytes), more order only helps a little more.
  for (int order = 6; order <= CharNgram::kMaxOrder; ++order) {
    EXPECT_LT(bits[static_cast<std::size_t>(order - 1)] / n, 0.1) << order;
  }
}

TEST(CharNgram, TheOrderIsChosenOnTheValidationPart) {
  // Documents from an order-2 Markov source: the order-3 model fits it; the validation part (the
  // last 1/20 of each document) chooses it, whatever text is scored.
  std::vector<std::uint8_t> train;
  std::vector<std::int64_t> ends;
  for (unsigned d = 0; d < 6; ++d) {
    const auto document = markov_text(16, 2, 0.2, 8000, 10 + d);
    train.insert(train.end(), document.begin(), document.end());
    ends.push_back(static_cast<std::int64_t>(train.size()));
  }
  const auto scored = markov_text(16, 2, 0.2, 3000, 99);
  const NgramBaseline fit = char_ngram_baseline(train, ends, 16, scored, whole(scored));
  ASSERT_EQ(fit.validation_bits.size(), static_cast<std::size_t>(CharNgram::kMaxOrder));
  EXPECT_EQ(fit.validation_tokens, 6 * 400);
  EXPECT_EQ(fit.fitted_tokens, 6 * 8000);
  EXPECT_EQ(fit.scored_tokens, 3000);
  EXPECT_EQ(fit.order, 3);
  for (std::size_t n = 0; n < fit.validation_bits.size(); ++n) {
    EXPECT_GE(fit.validation_bits[n], fit.validation_bits[2]) << n + 1;
  }
  EXPECT_LT(fit.validation_bits[2], fit.validation_bits[1] - 0.5);
  EXPECT_LT(fit.bits, 2.0);  // 0.2 noise over 16 symbols: ~1.4 bits
  // Scoring another text changes nothing of the choice.
  const auto other = markov_text(16, 0, 1.0, 500, 5);
  const NgramBaseline again = char_ngram_baseline(train, ends, 16, other, whole(other));
  EXPECT_EQ(again.order, 3);
  EXPECT_EQ(again.validation_bits, fit.validation_bits);
  EXPECT_GT(again.bits, 3.5);  // uniform noise: ~4 bits whatever the order

  // Independent symbols: order 1 (longer contexts only add estimation noise).
  const auto noise = markov_text(40, 0, 1.0, 30000, 6);
  const NgramBaseline flat = char_ngram_baseline(noise, {30000}, 40, noise, {{0, 29000, 30000}});
  EXPECT_EQ(flat.order, 1);

  // Capped: only the last max_fit_tokens are fitted (the first document partly).
  const NgramBaseline capped = char_ngram_baseline(train, ends, 16, scored, whole(scored), 4, 20000);
  EXPECT_EQ(capped.fitted_tokens, 20000);
  EXPECT_EQ(capped.validation_tokens, 4000 / 20 + 2 * 400);
  EXPECT_EQ(capped.validation_bits.size(), 4u);
  EXPECT_EQ(capped.order, 3);

  // No validation part (documents under 20 tokens): order 1.
  const auto tiny = tokens_of("abcabcabcab");
  EXPECT_EQ(char_ngram_baseline(tiny, {11}, 3, tiny, whole(tiny)).order, 1);
}

TEST(CharNgram, Deterministic) {
  std::vector<std::uint8_t> train = markov_text(30, 3, 0.4, 50000, 7);
  const auto scored = markov_text(30, 3, 0.4, 5000, 8);
  const std::vector<TextSpan> spans = {{0, 1, 2000}, {2000, 2000, 2500}, {2400, 2600, 5000}};
  const NgramBaseline a = char_ngram_baseline(train, {20000, 50000}, 30, scored, spans);
  const NgramBaseline b = char_ngram_baseline(train, {20000, 50000}, 30, scored, spans);
  EXPECT_EQ(a.bits, b.bits);
  EXPECT_EQ(a.order, b.order);
  EXPECT_EQ(a.validation_bits, b.validation_bits);
  EXPECT_EQ(a.scored_tokens, 1999 + 500 + 2400);
}

TEST(CharNgram, BadArguments) {
  expect_error([] { CharNgram(0, 3); }, ErrorCode::invalid_argument, {"vocabulary"});
  expect_error([] { CharNgram(257, 3); }, ErrorCode::invalid_argument, {"vocabulary"});
  expect_error([] { CharNgram(10, 9); }, ErrorCode::invalid_argument, {"max_order", "9"});
  CharNgram model(3, 2);
  const auto tokens = tokens_of("abcd");  // d is outside a vocabulary of 3
  expect_error([&] { model.add(tokens, whole(tokens)); }, ErrorCode::invalid_argument, {"token 3"});
  expect_error([&] { model.add(tokens, {{0, 2, 1}}); }, ErrorCode::invalid_argument, {"spans"});
  expect_error([&] { model.probability(nullptr, 0, 0, 3); }, ErrorCode::invalid_argument, {"order"});
  expect_error([&] { model.probability(nullptr, 0, 3, 1); }, ErrorCode::invalid_argument, {"symbol"});
}

}  // namespace
}  // namespace gpurnn::testing
