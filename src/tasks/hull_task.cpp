// Planar convex hull by pointing (Vinyals et al. 2015, section 4.1). The input is an end marker
// (position 0, features [0, 0, 1]) followed by n points uniform in the unit square (features
// [x, y, 0]); the output is the hull's points in counter-clockwise order starting at the lowest
// index (Andrew's monotone chain), as positions 1..n, then the end marker. Pointers are exclusive.
// Reported: accuracy (the exact hull, any rotation), area coverage (Vinyals et al.: the predicted
// polygon's area over the hull's, 0 for a polygon that is not simple) and the fraction of
// failures (not a simple polygon), beside the paper's numbers at n = 50.

#include <sstream>

#include "tasks/geometry.h"
#include "tasks/sequence_task_support.h"
#include "tasks/tasks.h"

namespace gpurnn::train::tasks {
namespace {

constexpr std::int64_t kDefaultPoints = 10;
constexpr std::int64_t kDefaultRows = 64;
constexpr std::int64_t kDefaultEval = 1000;
constexpr std::int32_t kEndMarker = 0;

PairExample hull_example(const std::vector<geometry::Point>& points) {
  PairExample e;
  e.features = {0.0f, 0.0f, 1.0f};
  for (const geometry::Point& p : points) {
    e.features.insert(e.features.end(), {static_cast<float>(p.x), static_cast<float>(p.y), 0.0f});
  }
  for (int vertex : geometry::convex_hull(points)) e.target.push_back(vertex + 1);
  e.target.push_back(kEndMarker);
  return e;
}

// The points of an example (positions 1..n), as the model saw them (f32).
std::vector<geometry::Point> example_points(const PairExample& e) { return feature_points(e.features, 3, 3); }

// A decoded output as hull vertex indices (0-based points): positions minus one, up to the end.
std::vector<int> output_vertices(const std::vector<std::int32_t>& output) {
  std::vector<int> vertices;
  for (std::int32_t p : output) {
    if (p == kEndMarker) break;
    vertices.push_back(p - 1);
  }
  return vertices;
}

class HullTask : public BasicSequenceTask {
 public:
  explicit HullTask(const TaskOptions& options) : BasicSequenceTask("convex-hull") {
    const char* where = "make_task(convex-hull)";
    n_ = option_or(options.points, kDefaultPoints, where, "points");
    check_argument(n_ >= 3 && n_ <= 1000, where, "points", "must be in [3, 1000], got " + std::to_string(n_));
    const std::int64_t rows = option_or(options.batch, kDefaultRows, where, "batch");
    const std::int64_t eval = option_or(options.eval_examples, kDefaultEval, where, "eval_examples");
    interface_.input = InputKind::features;
    interface_.input_size = 3;
    interface_.target = TargetKind::pointers;
    interface_.end_output = kEndMarker;
    interface_.exclusive_pointers = true;
    const std::int64_t n = n_;
    set_sources(options, 3, rows, eval, [n](CounterRng& rng) {
      const std::vector<geometry::Point> points = random_unit_square_points(rng, n);
      return hull_example(points);
    });
    settings_ = {{"points", std::to_string(n_)}, {"batch", std::to_string(rows)}};
    description_ = "convex hull of " + std::to_string(n_) +
                   " points uniform in the unit square, pointed at counter-clockwise from the lowest index, then an "
                   "end marker; fresh examples each batch of " + std::to_string(rows) + ", " + std::to_string(eval) +
                   " held-out examples";
  }

  Report report_outputs(const std::vector<std::vector<std::int32_t>>& outputs) const override {
    check_outputs(outputs);
    double exact = 0, coverage = 0, failures = 0;
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      const std::vector<geometry::Point> points = example_points(eval_set_[i]);
      const std::vector<int> vertices = output_vertices(outputs[i]);
      exact += geometry::is_exact_hull(points, vertices);
      const bool simple = geometry::is_simple_polygon(points, vertices);
      failures += !simple;
      coverage += simple ? geometry::hull_area_coverage(points, vertices) : 0.0;
    }
    const auto count = static_cast<double>(outputs.size());
    return {{"n", std::to_string(n_)},
            {"accuracy", format_number(exact / count)},
            {"area_coverage", format_number(coverage / count)},
            {"failures", format_number(failures / count)},
            {"paper_n50_accuracy", "0.726"},
            {"paper_n50_area_coverage", "0.999"}};
  }

  Batch parse_input(const std::string& text) const override {
    const std::vector<geometry::Point> points = parse_points(text, "convex-hull", 3);
    Batch b = pair_batch({hull_example(points)}, InputKind::features, 3);
    b.targets = Tensor();
    return b;
  }

  std::string format_output(const std::string& text, const std::vector<std::int32_t>& output) const override {
    const std::vector<geometry::Point> points = parse_points(text, "convex-hull", 3);
    const std::vector<int> vertices = output_vertices(output);
    std::ostringstream out;
    out << "hull:";
    for (int v : vertices) out << " " << v;
    const bool simple = geometry::is_simple_polygon(points, vertices);
    out << "  exact: " << (geometry::is_exact_hull(points, vertices) ? "yes" : "no");
    out << "  area_coverage: " << (simple ? format_number(geometry::hull_area_coverage(points, vertices)) : "0 (not a simple polygon)");
    return out.str();
  }

 private:
  std::int64_t n_ = 0;
};

}  // namespace

std::unique_ptr<Task> make_hull_task(const TaskOptions& options) { return std::make_unique<HullTask>(options); }

// Pointer nets on points sit at the input-order solution for the first ~1,000 steps (tsp n=5: loss
// 0.515 until step ~800 at a constant 3e-3); a cosine decay over 1,500 steps ends the run before
// they leave it, so these train at a constant rate.
TaskEntry hull_task_entry() { return {"convex-hull", {"lstm", 128, 2500, 0, 3e-3, 1.0, "additive", 1, "constant", 1}, make_hull_task}; }

}  // namespace gpurnn::train::tasks
