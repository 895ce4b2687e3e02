// Sorting by pointing (Vinyals et al. 2015, section 4.3): the input is n numbers uniform in
// [0, 1) (one feature per position), the output the n positions in ascending order of their
// numbers. Pointers are exclusive (each position once) and the output has n steps. Reported:
// exact-match accuracy (the whole order right) and per-position accuracy, against the baseline of
// pointing in input order.

#include <algorithm>
#include <numeric>
#include <sstream>

#include "tasks/sequence_task_support.h"
#include "tasks/tasks.h"

namespace gpurnn::train::tasks {
namespace {

constexpr std::int64_t kDefaultNumbers = 8;
constexpr std::int64_t kDefaultRows = 64;
constexpr std::int64_t kDefaultEval = 1000;

std::vector<std::int32_t> ascending_positions(const std::vector<float>& values) {
  std::vector<std::int32_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) { return values[a] < values[b]; });
  return order;
}

class SortTask : public BasicSequenceTask {
 public:
  explicit SortTask(const TaskOptions& options) : BasicSequenceTask("sort") {
    const char* where = "make_task(sort)";
    n_ = option_or(options.points, kDefaultNumbers, where, "points");
    check_argument(n_ >= 2 && n_ <= 1000, where, "points", "must be in [2, 1000], got " + std::to_string(n_));
    const std::int64_t rows = option_or(options.batch, kDefaultRows, where, "batch");
    const std::int64_t eval = option_or(options.eval_examples, kDefaultEval, where, "eval_examples");
    interface_.input = InputKind::features;
    interface_.input_size = 1;
    interface_.target = TargetKind::pointers;
    interface_.exclusive_pointers = true;
    const std::int64_t n = n_;
    set_sources(options, 1, rows, eval, [n](CounterRng& rng) {
      PairExample e;
      for (std::int64_t i = 0; i < n; ++i) e.features.push_back(static_cast<float>(rng.uniform()));
      e.target = ascending_positions(e.features);
      return e;
    });
    settings_ = {{"points", std::to_string(n_)}, {"batch", std::to_string(rows)}};
    description_ = "sort " + std::to_string(n_) + " numbers uniform in [0, 1) by pointing at them in ascending order; "
                   "fresh examples each batch of " + std::to_string(rows) + ", " + std::to_string(eval) +
                   " held-out examples";
  }

  Report report_outputs(const std::vector<std::vector<std::int32_t>>& outputs) const override {
    check_outputs(outputs);
    std::int64_t exact = 0, positions = 0, right = 0, baseline_exact = 0, baseline_right = 0;
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      const std::vector<std::int32_t>& want = eval_set_[i].target;
      exact += outputs[i] == want;
      bool identity = true;
      for (std::size_t u = 0; u < want.size(); ++u) {
        right += u < outputs[i].size() && outputs[i][u] == want[u];
        baseline_right += want[u] == static_cast<std::int32_t>(u);
        identity = identity && want[u] == static_cast<std::int32_t>(u);
      }
      baseline_exact += identity;
      positions += static_cast<std::int64_t>(want.size());
    }
    const auto fraction = [](std::int64_t a, std::int64_t b) { return format_number(static_cast<double>(a) / static_cast<double>(b)); };
    const auto count = static_cast<std::int64_t>(outputs.size());
    return {{"n", std::to_string(n_)},
            {"accuracy", fraction(exact, count)},
            {"position_accuracy", fraction(right, positions)},
            {"input_order_accuracy", fraction(baseline_exact, count)},
            {"input_order_position_accuracy", fraction(baseline_right, positions)}};
  }

  Batch parse_input(const std::string& text) const override {
    const std::vector<double> v = parse_numbers(text, "sort");
    check_argument(!v.empty(), "sort", "input", "has no numbers, expected the numbers to sort");
    PairExample e;
    for (double x : v) e.features.push_back(static_cast<float>(x));
    Batch b = pair_batch({e}, InputKind::features, 1);
    b.targets = Tensor();
    return b;
  }

  std::string format_output(const std::string& text, const std::vector<std::int32_t>& output) const override {
    const std::vector<double> v = parse_numbers(text, "sort");
    std::ostringstream out;
    out << "order:";
    for (std::int32_t p : output) out << " " << p;
    out << "  sorted:";
    for (std::int32_t p : output) out << " " << (p >= 0 && p < static_cast<std::int32_t>(v.size()) ? format_number(v[p]) : "?");
    return out.str();
  }

 private:
  std::int64_t n_ = 0;
};

}  // namespace

std::unique_ptr<Task> make_sort_task(const TaskOptions& options) { return std::make_unique<SortTask>(options); }

TaskEntry sort_task_entry() { return {"sort", {"lstm", 64, 1000, 30, 3e-3, 1.0, "additive", 1, "cosine", 1}, make_sort_task}; }

}  // namespace gpurnn::train::tasks
