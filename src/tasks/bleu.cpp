#include "tasks/bleu.h"

#include <cmath>
#include <map>

#include "gpurnn/error.h"

namespace gpurnn::train {
namespace {

using Tokens = std::vector<std::string>;

// How often each n-gram of `tokens` occurs.
std::map<Tokens, long long> ngram_counts(const Tokens& tokens, int n) {
  std::map<Tokens, long long> counts;
  for (std::size_t start = 0; start + n <= tokens.size(); ++start) {
    ++counts[Tokens(tokens.begin() + start, tokens.begin() + start + n)];
  }
  return counts;
}

}  // namespace

double corpus_bleu(const std::vector<Tokens>& candidates, const std::vector<Tokens>& references,
                   int max_order) {
  constexpr const char* kWhere = "corpus_bleu";
  check_argument(candidates.size() == references.size(), kWhere, "references",
                 "to hold one reference per candidate (" + std::to_string(candidates.size()) +
                     "), got " + std::to_string(references.size()));
  check_argument(max_order >= 1, kWhere, "max_order",
                 "to be at least 1, got " + std::to_string(max_order));
  std::vector<long long> matched(max_order, 0), total(max_order, 0);
  long long candidate_length = 0, reference_length = 0;
  for (std::size_t s = 0; s < candidates.size(); ++s) {
    candidate_length += static_cast<long long>(candidates[s].size());
    reference_length += static_cast<long long>(references[s].size());
    for (int n = 1; n <= max_order; ++n) {
      const auto reference_counts = ngram_counts(references[s], n);
      for (const auto& [ngram, count] : ngram_counts(candidates[s], n)) {
        const auto found = reference_counts.find(ngram);
        matched[n - 1] += found == reference_counts.end() ? 0 : std::min(count, found->second);
        total[n - 1] += count;
      }
    }
  }
  if (candidate_length == 0) return 0.0;
  double log_precision_sum = 0.0;
  for (int n = 0; n < max_order; ++n) {
    if (matched[n] == 0) return 0.0;  // also when total[n] == 0
    log_precision_sum += std::log(static_cast<double>(matched[n]) / static_cast<double>(total[n]));
  }
  const double log_brevity =
      candidate_length < reference_length
          ? 1.0 - static_cast<double>(reference_length) / static_cast<double>(candidate_length)
          : 0.0;
  return std::exp(log_brevity + log_precision_sum / max_order);
}

}  // namespace gpurnn::train
