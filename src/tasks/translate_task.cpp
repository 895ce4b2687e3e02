// A translation-style task with real structure: numbers and dates written in English words,
// translated to their normalised form ("four thousand two hundred and seven" -> "4207", "the
// fourteenth of march two thousand and seventeen" -> "2017-03-14"). Source tokens are words,
// output tokens are characters then an end-of-sequence token (id 0). With reverse_source the
// source words are fed in reverse order (Sutskever et al. 2014). Reported: exact-match accuracy
// and corpus BLEU-4 over output characters, beside the best constant answer (the held-out set's
// most common target).

#include <algorithm>
#include <map>
#include <sstream>

#include "core/quoted.h"
#include "tasks/bleu.h"
#include "tasks/number_words.h"
#include "tasks/sequence_task_support.h"
#include "tasks/tasks.h"

namespace gpurnn::train::tasks {
namespace {

constexpr std::int64_t kDefaultRows = 64;
constexpr std::int64_t kDefaultEval = 1000;
constexpr std::int32_t kEndOfSequence = 0;

std::vector<std::string> characters(const std::string& text) {
  std::vector<std::string> out;
  for (char ch : text) out.emplace_back(1, ch);
  return out;
}

class TranslateTask : public BasicSequenceTask {
 public:
  explicit TranslateTask(const TaskOptions& options) : BasicSequenceTask("translate"), reverse_(options.reverse_source) {
    const char* where = "make_task(translate)";
    const std::int64_t rows = option_or(options.batch, kDefaultRows, where, "batch");
    const std::int64_t eval = option_or(options.eval_examples, kDefaultEval, where, "eval_examples");
    const std::vector<std::string>& vocabulary = translate_source_vocabulary();
    for (std::size_t i = 0; i < vocabulary.size(); ++i) word_ids_[vocabulary[i]] = static_cast<std::int32_t>(i);
    const std::string& alphabet = translate_target_alphabet();
    interface_.input = InputKind::tokens;
    interface_.input_size = static_cast<std::int64_t>(vocabulary.size());
    interface_.target = TargetKind::output_tokens;
    interface_.output_size = static_cast<std::int64_t>(alphabet.size()) + 1;
    interface_.end_output = kEndOfSequence;
    interface_.max_output = 16;
    const std::uint64_t seed = options.seed;
    set_sources(options, 0, rows, eval, [this, seed](CounterRng& rng) {
      const TranslatePair pair = translate_pair(seed, rng.next());
      return example(pair.source, pair.target);
    });
    settings_ = {{"reverse_source", reverse_ ? "1" : "0"}, {"batch", std::to_string(rows)}};
    description_ = std::string("English numbers (0 to 999,999) and dates (1900-2099, several styles) to digits and "
                               "ISO dates; ") + std::to_string(vocabulary.size()) + " source words" +
                   (reverse_ ? " fed in reverse" : "") + ", " + std::to_string(alphabet.size()) +
                   " output characters; fresh examples each batch of " + std::to_string(rows) + ", " +
                   std::to_string(eval) + " held-out examples";
  }

  Report report_outputs(const std::vector<std::vector<std::int32_t>>& outputs) const override {
    check_outputs(outputs);
    std::vector<std::vector<std::string>> candidates, references;
    std::map<std::string, std::int64_t> target_counts;
    std::int64_t exact = 0;
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      const std::string want = text_of(eval_set_[i].target);
      const std::string got = text_of(outputs[i]);
      exact += got == want;
      candidates.push_back(characters(got));
      references.push_back(characters(want));
      ++target_counts[want];
    }
    const std::string constant =
        std::max_element(target_counts.begin(), target_counts.end(), [](const auto& a, const auto& b) {
          return a.second < b.second;
        })->first;
    const std::vector<std::vector<std::string>> constant_answers(outputs.size(), characters(constant));
    const auto count = static_cast<double>(outputs.size());
    return {{"accuracy", format_number(static_cast<double>(exact) / count)},
            {"bleu", format_number(corpus_bleu(candidates, references))},
            {"constant_accuracy", format_number(static_cast<double>(target_counts[constant]) / count)},
            {"constant_bleu", format_number(corpus_bleu(constant_answers, references))},
            {"reverse_source", reverse_ ? "1" : "0"}};
  }


  Batch parse_input(const std::string& text) const override {
    std::istringstream in(text);
    std::vector<std::string> words;
    std::string word;
    while (in >> word) {
      std::transform(word.begin(), word.end(), word.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      words.push_back(word);
    }
    check_argument(!words.empty(), "translate", "input", "is empty, expected a number or a date in English words");
    PairExample e = example(words, "");
    Batch b = pair_batch({e}, InputKind::tokens, 0);
    b.targets = Tensor();
    return b;
  }

  std::string format_output(const std::string& /*text*/, const std::vector<std::int32_t>& output) const override {
    return text_of(output);
  }

 private:
  PairExample example(std::vector<std::string> words, const std::string& target) const {
    if (reverse_) std::reverse(words.begin(), words.end());
    PairExample e;
    for (const std::string& w : words) {
      const auto it = word_ids_.find(w);
      if (it == word_ids_.end()) {
        throw Error(ErrorCode::invalid_argument, "translate: the word " + gpurnn::detail::quoted(w) +
                                                     " is not in the source vocabulary (numbers and dates in English "
                                                     "words, lower case, e.g. 'the fourteenth of march two thousand')");
      }
      e.tokens.push_back(it->second);
    }
    const std::string& alphabet = translate_target_alphabet();
    for (char ch : target) e.target.push_back(static_cast<std::int32_t>(alphabet.find(ch)) + 1);
    e.target.push_back(kEndOfSequence);
    return e;
  }

  // Output tokens as text, up to the end of sequence.
  std::string text_of(const std::vector<std::int32_t>& tokens) const {
    const std::string& alphabet = translate_target_alphabet();
    std::string text;
    for (std::int32_t t : tokens) {
      if (t == kEndOfSequence) break;
      text += t >= 1 && t <= static_cast<std::int32_t>(alphabet.size()) ? alphabet[t - 1] : '?';
    }
    return text;
  }

  bool reverse_;
  std::map<std::string, std::int32_t> word_ids_;
};

}  // namespace

std::unique_ptr<Task> make_translate_task(const TaskOptions& options) {
  return std::make_unique<TranslateTask>(options);
}

TaskEntry translate_task_entry() { return {"translate", {"lstm", 128, 600, 30, 3e-3, 1.0, "general", 1, "cosine", 1}, make_translate_task}; }

}  // namespace gpurnn::train::tasks
