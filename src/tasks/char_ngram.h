#pragma once
// charlm's classical baseline: a character n-gram language model with interpolated Witten–Bell
// smoothing (Witten and Bell 1991; the interpolated form of Chen and Goodman 1998, section 2.5):
//
//   P_0(w)   = 1 / V                                   (V: the task's vocabulary)
//   P_L(w|h) = (c(h w) + T(h) P_{L-1}(w|h')) / (c(h) + T(h))   for a context h of L-1 tokens
//
// where h' is h without its oldest token, c(h w) the count of the n-gram, c(h) the count of h
// followed by anything, and T(h) the number of distinct tokens seen after h. A context never
// seen (c(h) = 0) backs off entirely: P_L = P_{L-1}. The model of order n is P_n, so order 1 is
// the unigram interpolated with the uniform distribution, (c(w) + T/V) / (N + T).
//
// Why Witten–Bell rather than Kneser–Ney: it has no discounts to estimate from counts of counts
// (which are degenerate on the small or repetitive texts a user may pass with --text), every
// context's weight is a closed form of its own counts, it is what PPM-C compresses text with, and
// issue 32 measured its baseline (2.74 bits/char on the GPL) with it.
//
// Counts live in one sorted array of packed n-grams per order (8 bits a token, the newest in the
// low byte, so an order is at most 8), built by radix sort: no hash map, and a lookup is a binary
// search for the context followed by one within that context's run of n-grams.

#include <cstdint>
#include <vector>

namespace gpurnn::train::tasks {

// A run of a token stream: the tokens [from, end) are predicted (counted when fitting, scored when
// evaluating), each from the tokens before it back to `begin` (its history; an order-n model uses
// the last n-1 of them). begin <= from <= end.
struct TextSpan {
  std::int64_t begin = 0;
  std::int64_t from = 0;
  std::int64_t end = 0;
};

class CharNgram {
 public:
  static constexpr int kMaxOrder = 8;

  // Tokens in [0, vocabulary), vocabulary in [1, 256]; max_order in [1, kMaxOrder].
  // Error(invalid_argument) otherwise.
  CharNgram(std::int64_t vocabulary, int max_order);

  // Counts the predicted tokens of `spans` (of `tokens`) at every order up to max_order(); counts
  // add up over calls.
  void add(const std::vector<std::uint8_t>& tokens, const std::vector<TextSpan>& spans);

  // P(symbol | the last order-1 tokens of history[0, length)), order in [1, max_order()]; a shorter
  // history uses what it has.
  double probability(const std::uint8_t* history, std::int64_t length, std::int32_t symbol, int order) const;

  // The sum over the predicted tokens of `spans` of -log2 P(token | its history), at every order:
  // element n-1 is order n's, for n = 1 .. max_order().
  std::vector<double> bits(const std::vector<std::uint8_t>& tokens, const std::vector<TextSpan>& spans) const;

  std::int64_t vocabulary() const { return vocabulary_; }
  int max_order() const { return max_order_; }
  std::int64_t ngrams() const;  // distinct n-grams stored, all orders together

 private:
  struct Order {
    std::vector<std::uint64_t> keys;    // the distinct n-grams, sorted
    std::vector<std::uint32_t> counts;  // of each
    std::vector<std::uint64_t> contexts;  // the distinct keys >> 8, sorted
    std::vector<std::uint32_t> firsts;    // context i's n-grams are keys[firsts[i], firsts[i+1])
    std::vector<std::uint32_t> totals;    // c(context)
  };
  // P of every order 1..max_order() into p[0..], for symbol after the packed history (newest token
  // in the low byte) of `length` tokens.
  void probabilities(std::uint64_t history, std::int64_t length, std::int32_t symbol, double* p) const;

  std::int64_t vocabulary_;
  int max_order_;
  std::vector<Order> orders_;  // [n-1]: order n
};

// charlm's baseline, fitted and scored.
struct NgramBaseline {
  int order = 0;                        // chosen on the validation part
  std::vector<double> validation_bits;  // mean bits/char of orders 1..max on the validation part
  double bits = 0.0;                    // mean bits/char of the chosen order on the scored spans
  std::int64_t fitted_tokens = 0;       // training tokens counted (all of them, or the last cap)
  std::int64_t validation_tokens = 0;
  std::int64_t scored_tokens = 0;
};

// Fits on a training stream of documents (ends: each one's exclusive end, increasing), or on its
// last max_fit_tokens tokens when it is longer. The last 1/20 of each document is the validation
// part: a model of the rest scores it at every order 1..max_order, and the order with the lowest
// bits/char is chosen (the lower on a tie; order 1 when there is no validation part). The
// validation tokens are then counted too, and the spans of `scored` are scored at that order.
NgramBaseline char_ngram_baseline(const std::vector<std::uint8_t>& train, const std::vector<std::int64_t>& ends,
                                  std::int64_t vocabulary, const std::vector<std::uint8_t>& scored_tokens,
                                  const std::vector<TextSpan>& scored, int max_order = CharNgram::kMaxOrder,
                                  std::int64_t max_fit_tokens = std::int64_t{1} << 24);

}  // namespace gpurnn::train::tasks
