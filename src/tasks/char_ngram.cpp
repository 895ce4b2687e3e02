// Interpolated Witten–Bell character n-grams in sorted arrays (see char_ngram.h).
#include "tasks/char_ngram.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "gpurnn/error.h"

namespace gpurnn::train::tasks {
namespace {

constexpr const char* kWhere = "CharNgram";

std::uint64_t low_bytes(int bytes) { return bytes >= 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * bytes)) - 1; }

// LSD radix sort of keys whose bytes at and above `bytes` are zero; a byte every key shares is
// skipped.
void radix_sort(std::vector<std::uint64_t>& keys, int bytes) {
  std::vector<std::uint64_t> buffer(keys.size());
  for (int byte = 0; byte < bytes; ++byte) {
    const int shift = 8 * byte;
    std::array<std::size_t, 256> starts{};
    for (std::uint64_t key : keys) ++starts[(key >> shift) & 0xff];
    if (std::find(starts.begin(), starts.end(), keys.size()) != starts.end()) continue;
    std::size_t sum = 0;
    for (std::size_t& start : starts) {
      const std::size_t count = start;
      start = sum;
      sum += count;
    }
    for (std::uint64_t key : keys) buffer[starts[(key >> shift) & 0xff]++] = key;
    keys.swap(buffer);
  }
}

// The (key, count) pairs of one order, sorted by key.
struct Counts {
  std::vector<std::uint64_t> keys;
  std::vector<std::uint32_t> counts;
};

Counts count_order(const std::vector<std::uint8_t>& tokens, const std::vector<TextSpan>& spans, int order) {
  const std::uint64_t mask = low_bytes(order);
  std::vector<std::uint64_t> keys;
  std::size_t size = 0;
  for (const TextSpan& span : spans) size += static_cast<std::size_t>(span.end - span.from);
  keys.reserve(size);
  for (const TextSpan& span : spans) {
    // The n-gram ending at i needs i - (order-1) >= begin.
    const std::int64_t first = std::max(span.from, span.begin + order - 1);
    std::uint64_t key = 0;
    for (std::int64_t i = std::max(span.begin, first - (order - 1)); i < first; ++i) key = (key << 8) | tokens[static_cast<std::size_t>(i)];
    for (std::int64_t i = first; i < span.end; ++i) {
      key = ((key << 8) | tokens[static_cast<std::size_t>(i)]) & mask;
      keys.push_back(key);
    }
  }
  radix_sort(keys, order);
  Counts result;
  for (std::size_t i = 0; i < keys.size();) {
    std::size_t j = i + 1;
    while (j < keys.size() && keys[j] == keys[i]) ++j;
    result.keys.push_back(keys[i]);
    result.counts.push_back(static_cast<std::uint32_t>(j - i));
    i = j;
  }
  return result;
}

Counts merge(Counts a, Counts b) {
  if (a.keys.empty()) return b;
  if (b.keys.empty()) return a;
  Counts out;
  out.keys.reserve(a.keys.size() + b.keys.size());
  out.counts.reserve(a.keys.size() + b.keys.size());
  std::size_t i = 0, j = 0;
  while (i < a.keys.size() || j < b.keys.size()) {
    if (j == b.keys.size() || (i < a.keys.size() && a.keys[i] < b.keys[j])) {
      out.keys.push_back(a.keys[i]);
      out.counts.push_back(a.counts[i++]);
    } else if (i == a.keys.size() || b.keys[j] < a.keys[i]) {
      out.keys.push_back(b.keys[j]);
      out.counts.push_back(b.counts[j++]);
    } else {
      out.keys.push_back(a.keys[i]);
      out.counts.push_back(a.counts[i++] + b.counts[j++]);
    }
  }
  return out;
}

}  // namespace

CharNgram::CharNgram(std::int64_t vocabulary, int max_order) : vocabulary_(vocabulary), max_order_(max_order) {
  check_argument(vocabulary >= 1 && vocabulary <= 256, kWhere, "vocabulary",
                 "must be in [1, 256], got " + std::to_string(vocabulary));
  check_argument(max_order >= 1 && max_order <= kMaxOrder, kWhere, "max_order",
                 "must be in [1, " + std::to_string(kMaxOrder) + "], got " + std::to_string(max_order));
  orders_.resize(static_cast<std::size_t>(max_order));
}

void CharNgram::add(const std::vector<std::uint8_t>& tokens, const std::vector<TextSpan>& spans) {
  for (const TextSpan& span : spans) {
    check_argument(span.begin >= 0 && span.begin <= span.from && span.from <= span.end &&
                       span.end <= static_cast<std::int64_t>(tokens.size()),
                   kWhere, "spans", "a span is outside the tokens or not begin <= from <= end");
  }
  const std::uint8_t largest = tokens.empty() ? 0 : *std::max_element(tokens.begin(), tokens.end());
  if (largest >= vocabulary_) {
    check_argument(false, kWhere, "tokens",
                   "token " + std::to_string(largest) + " is outside the vocabulary of " + std::to_string(vocabulary_));
  }
  for (int n = 1; n <= max_order_; ++n) {
    Order& order = orders_[static_cast<std::size_t>(n - 1)];
    Counts counts = merge({std::move(order.keys), std::move(order.counts)}, count_order(tokens, spans, n));
    order = {};
    order.keys = std::move(counts.keys);
    order.counts = std::move(counts.counts);
    // The contexts: runs of keys with the same key >> 8 (keys sorted, so the runs are sorted).
    for (std::size_t i = 0; i < order.keys.size(); ++i) {
      const std::uint64_t context = order.keys[i] >> 8;
      if (order.contexts.empty() || order.contexts.back() != context) {
        order.contexts.push_back(context);
        order.firsts.push_back(static_cast<std::uint32_t>(i));
        order.totals.push_back(0);
      }
      order.totals.back() += order.counts[i];
    }
    order.firsts.push_back(static_cast<std::uint32_t>(order.keys.size()));
  }
}

void CharNgram::probabilities(std::uint64_t history, std::int64_t length, std::int32_t symbol, double* p) const {
  double previous = 1.0 / static_cast<double>(vocabulary_);
  bool backed_off = false;  // a context unseen: every longer one is unseen too
  for (int n = 1; n <= max_order_; ++n) {
    if (!backed_off && length >= n - 1) {
      const Order& order = orders_[static_cast<std::size_t>(n - 1)];
      const std::uint64_t context = history & low_bytes(n - 1);
      const auto it = std::lower_bound(order.contexts.begin(), order.contexts.end(), context);
      if (it == order.contexts.end() || *it != context) {
        backed_off = true;
      } else {
        const auto index = static_cast<std::size_t>(it - order.contexts.begin());
        const auto first = order.keys.begin() + order.firsts[index];
        const auto last = order.keys.begin() + order.firsts[index + 1];
        const std::uint64_t key = (context << 8) | static_cast<std::uint64_t>(symbol);
        const auto found = std::lower_bound(first, last, key);
        const double count =
            found != last && *found == key ? order.counts[static_cast<std::size_t>(found - order.keys.begin())] : 0.0;
        const auto types = static_cast<double>(last - first);
        previous = (count + types * previous) / (static_cast<double>(order.totals[index]) + types);
      }
    } else {
      backed_off = true;
    }
    p[n - 1] = previous;
  }
}

double CharNgram::probability(const std::uint8_t* history, std::int64_t length, std::int32_t symbol, int order) const {
  check_argument(order >= 1 && order <= max_order_, kWhere, "order",
                 "must be in [1, " + std::to_string(max_order_) + "], got " + std::to_string(order));
  check_argument(symbol >= 0 && symbol < vocabulary_, kWhere, "symbol",
                 std::to_string(symbol) + " is outside the vocabulary of " + std::to_string(vocabulary_));
  check_argument(length >= 0, kWhere, "length", "must be >= 0");
  std::uint64_t packed = 0;
  const std::int64_t used = std::min<std::int64_t>(length, kMaxOrder - 1);
  for (std::int64_t i = length - used; i < length; ++i) packed = (packed << 8) | history[i];
  std::array<double, kMaxOrder> p{};
  probabilities(packed, used, symbol, p.data());
  return p[static_cast<std::size_t>(order - 1)];
}

std::vector<double> CharNgram::bits(const std::vector<std::uint8_t>& tokens, const std::vector<TextSpan>& spans) const {
  std::vector<double> sums(static_cast<std::size_t>(max_order_), 0.0);
  std::array<double, kMaxOrder> p{};
  for (const TextSpan& span : spans) {
    check_argument(span.begin >= 0 && span.begin <= span.from && span.from <= span.end &&
                       span.end <= static_cast<std::int64_t>(tokens.size()),
                   kWhere, "spans", "a span is outside the tokens or not begin <= from <= end");
    std::uint64_t history = 0;
    for (std::int64_t i = std::max(span.begin, span.from - (kMaxOrder - 1)); i < span.from; ++i) {
      history = (history << 8) | tokens[static_cast<std::size_t>(i)];
    }
    for (std::int64_t i = span.from; i < span.end; ++i) {
      const std::uint8_t token = tokens[static_cast<std::size_t>(i)];
      if (token >= vocabulary_) {
        check_argument(false, kWhere, "tokens",
                       "token " + std::to_string(token) + " is outside the vocabulary of " + std::to_string(vocabulary_));
      }
      probabilities(history, std::min<std::int64_t>(i - span.begin, kMaxOrder - 1), token, p.data());
      for (int n = 0; n < max_order_; ++n) sums[static_cast<std::size_t>(n)] -= std::log2(p[static_cast<std::size_t>(n)]);
      history = (history << 8) | token;
    }
  }
  return sums;
}

std::int64_t CharNgram::ngrams() const {
  std::int64_t total = 0;
  for (const Order& order : orders_) total += static_cast<std::int64_t>(order.keys.size());
  return total;
}

NgramBaseline char_ngram_baseline(const std::vector<std::uint8_t>& train, const std::vector<std::int64_t>& ends,
                                  std::int64_t vocabulary, const std::vector<std::uint8_t>& scored_tokens,
                                  const std::vector<TextSpan>& scored, int max_order, std::int64_t max_fit_tokens) {
  check_argument(max_fit_tokens >= 1, "char_ngram_baseline", "max_fit_tokens", "must be >= 1");
  NgramBaseline result;
  // The documents (or the parts of them) in the last max_fit_tokens tokens, each split into the
  // part the order is chosen with and the validation part.
  const std::int64_t start = std::max<std::int64_t>(0, static_cast<std::int64_t>(train.size()) - max_fit_tokens);
  std::vector<TextSpan> fit, validation;
  std::int64_t begin = 0;
  for (std::int64_t end : ends) {
    const std::int64_t first = std::max(begin, start);
    if (end > first) {
      const std::int64_t held = (end - first) / 20;
      fit.push_back({first, first, end - held});
      if (held > 0) validation.push_back({first, end - held, end});
      result.fitted_tokens += end - first;
      result.validation_tokens += held;
    }
    begin = end;
  }
  CharNgram model(vocabulary, max_order);
  model.add(train, fit);
  result.order = 1;
  if (result.validation_tokens > 0) {
    const std::vector<double> sums = model.bits(train, validation);
    for (double sum : sums) result.validation_bits.push_back(sum / static_cast<double>(result.validation_tokens));
    for (int n = 2; n <= max_order; ++n) {
      if (result.validation_bits[static_cast<std::size_t>(n - 1)] <
          result.validation_bits[static_cast<std::size_t>(result.order - 1)]) {
        result.order = n;
      }
    }
    model.add(train, validation);
  }
  for (const TextSpan& span : scored) result.scored_tokens += span.end - span.from;
  if (result.scored_tokens > 0) {
    result.bits = model.bits(scored_tokens, scored)[static_cast<std::size_t>(result.order - 1)] /
                  static_cast<double>(result.scored_tokens);
  }
  return result;
}

}  // namespace gpurnn::train::tasks
