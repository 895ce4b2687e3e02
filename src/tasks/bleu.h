#pragma once
// Corpus BLEU (Papineni, Roukos, Ward and Zhu 2002) for the translate task's evaluation.

#include <string>
#include <vector>

namespace gpurnn::train {

// BLEU of `candidates` against one reference each (token lists, same order): for n = 1 ..
// max_order, the modified precision p_n = (sum over sentences of the candidate's n-gram
// counts, each clipped to its count in the reference) / (sum of the candidate's n-grams);
// BLEU = BP * exp(mean of log p_n), BP = exp(1 - r / c) when c < r, else 1, where c and r are
// the total candidate and reference lengths. No smoothing: 0 when any p_n is 0 (including no
// candidate n-grams of some order) or when there are no candidate tokens. In [0, 1].
// Error(invalid_argument) when the lists differ in length or max_order < 1.
double corpus_bleu(const std::vector<std::vector<std::string>>& candidates,
                   const std::vector<std::vector<std::string>>& references, int max_order = 4);

}  // namespace gpurnn::train
