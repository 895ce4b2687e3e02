// The planar travelling salesman by pointing (Vinyals et al. 2015, section 4.3). The input is n
// points uniform in the unit square (features [x, y]); the output a closed tour as n positions,
// starting at point 0 and in the direction whose second point has the lower index. Labels are
// exact (Held-Karp) for n <= 12 and 2-opt from the nearest-neighbour tour beyond. Pointers are
// exclusive and the output has n steps. Reported: the mean tour length of the model's tours, of
// the labels, and of the nearest-neighbour and 2-opt baselines, beside the paper's numbers.

#include <sstream>

#include "tasks/geometry.h"
#include "tasks/sequence_task_support.h"
#include "tasks/tasks.h"
#include "tasks/tsp_solvers.h"

namespace gpurnn::train::tasks {
namespace {

constexpr std::int64_t kDefaultPoints = 5;
constexpr std::int64_t kDefaultRows = 64;
constexpr std::int64_t kDefaultEval = 1000;
constexpr std::int64_t kExactUpTo = 12;

std::vector<int> label_tour(const std::vector<geometry::Point>& points) {
  const std::vector<int> tour = static_cast<std::int64_t>(points.size()) <= kExactUpTo
                                    ? tsp::held_karp(points)
                                    : tsp::two_opt(points, tsp::nearest_neighbour(points));
  return tsp::canonical_tour(tour);
}

PairExample tsp_example(const std::vector<geometry::Point>& points, bool with_label) {
  PairExample e;
  for (const geometry::Point& p : points) e.features.insert(e.features.end(), {static_cast<float>(p.x), static_cast<float>(p.y)});
  if (with_label) {
    for (int i : label_tour(points)) e.target.push_back(i);
  }
  return e;
}

std::vector<geometry::Point> example_points(const PairExample& e) { return feature_points(e.features, 0, 2); }

std::vector<int> as_tour(const std::vector<std::int32_t>& output) { return {output.begin(), output.end()}; }

// The paper's numbers (Vinyals et al. 2015, Table 2): optimal and pointer-net mean tour lengths.
const char* paper_optimal(std::int64_t n) { return n == 5 ? "2.12" : n == 10 ? "2.87" : nullptr; }
const char* paper_pointer_net(std::int64_t n) { return n == 5 ? "2.12" : n == 10 ? "2.88" : nullptr; }

class TspTask : public BasicSequenceTask {
 public:
  explicit TspTask(const TaskOptions& options) : BasicSequenceTask("tsp") {
    const char* where = "make_task(tsp)";
    n_ = option_or(options.points, kDefaultPoints, where, "points");
    check_argument(n_ >= 3 && n_ <= 500, where, "points", "must be in [3, 500], got " + std::to_string(n_));
    const std::int64_t rows = option_or(options.batch, kDefaultRows, where, "batch");
    const std::int64_t eval = option_or(options.eval_examples, kDefaultEval, where, "eval_examples");
    interface_.input = InputKind::features;
    interface_.input_size = 2;
    interface_.target = TargetKind::pointers;
    interface_.exclusive_pointers = true;
    const std::int64_t n = n_;
    set_sources(options, 2, rows, eval, [n](CounterRng& rng) {
      const std::vector<geometry::Point> points = random_unit_square_points(rng, n);
      return tsp_example(points, true);
    });
    settings_ = {{"points", std::to_string(n_)}, {"batch", std::to_string(rows)}};
    description_ = "travelling salesman on " + std::to_string(n_) + " points uniform in the unit square, labels " +
                   (n_ <= kExactUpTo ? std::string("exact (Held-Karp)") : std::string("2-opt")) +
                   "; fresh examples each batch of " + std::to_string(rows) + ", " + std::to_string(eval) +
                   " held-out examples";
  }

  Report report_outputs(const std::vector<std::vector<std::int32_t>>& outputs) const override {
    check_outputs(outputs);
    double model = 0, label = 0, nn = 0, two_opt = 0;
    std::int64_t invalid = 0;
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      const std::vector<geometry::Point> points = example_points(eval_set_[i]);
      const std::vector<int> tour = as_tour(outputs[i]);
      const bool valid = tsp::is_tour(tour, static_cast<int>(points.size()));
      invalid += !valid;
      const std::vector<int> nn_tour = tsp::nearest_neighbour(points);
      // An invalid tour (never produced with exclusive pointers) counts as the nearest-neighbour one.
      model += tsp::tour_length(points, valid ? tour : nn_tour);
      label += tsp::tour_length(points, as_tour(eval_set_[i].target));
      nn += tsp::tour_length(points, nn_tour);
      two_opt += tsp::tour_length(points, tsp::two_opt(points, nn_tour));
    }
    const auto count = static_cast<double>(outputs.size());
    Report report = {{"n", std::to_string(n_)},
                     {"model_tour", format_number(model / count)},
                     {"label_tour", format_number(label / count)},
                     {"nn_tour", format_number(nn / count)},
                     {"two_opt_tour", format_number(two_opt / count)},
                     {"invalid_tours", std::to_string(invalid)}};
    if (paper_optimal(n_) != nullptr) {
      report.emplace_back("paper_optimal_tour", paper_optimal(n_));
      report.emplace_back("paper_pointer_net_tour", paper_pointer_net(n_));
    }
    return report;
  }

  Batch parse_input(const std::string& text) const override {
    const std::vector<geometry::Point> points = parse_points(text, "tsp", 3);
    Batch b = pair_batch({tsp_example(points, false)}, InputKind::features, 2);
    b.targets = Tensor();
    return b;
  }

  std::string format_output(const std::string& text, const std::vector<std::int32_t>& output) const override {
    const std::vector<geometry::Point> points = parse_points(text, "tsp", 3);
    const std::vector<int> tour = as_tour(output);
    std::ostringstream out;
    out << "tour:";
    for (int i : tour) out << " " << i;
    if (tsp::is_tour(tour, static_cast<int>(points.size()))) {
      out << "  length: " << format_number(tsp::tour_length(points, tour));
      out << "  nearest_neighbour: " << format_number(tsp::tour_length(points, tsp::nearest_neighbour(points)));
    } else {
      out << "  (not a tour of the " << points.size() << " points)";
    }
    return out.str();
  }

 private:
  std::int64_t n_ = 0;
};

}  // namespace

std::unique_ptr<Task> make_tsp_task(const TaskOptions& options) { return std::make_unique<TspTask>(options); }

// A constant rate, as convex-hull (hull_task.cpp) says why.
TaskEntry tsp_task_entry() { return {"tsp", {"lstm", 128, 2500, 0, 3e-3, 1.0, "additive", 1, "constant", 1}, make_tsp_task}; }

}  // namespace gpurnn::train::tasks
