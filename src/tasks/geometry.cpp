#include "tasks/geometry.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <string>

#include "gpurnn/error.h"

namespace gpurnn::train::geometry {
namespace {

// Twice the signed area of triangle (o, a, b): > 0 when o -> a -> b turns counter-clockwise.
double cross(const Point& o, const Point& a, const Point& b) {
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

bool same_point(const Point& a, const Point& b) { return a.x == b.x && a.y == b.y; }

int sign(double v) { return (v > 0) - (v < 0); }

// Whether p, known collinear with segment [a, b], lies on it (ends included).
bool on_segment(const Point& a, const Point& b, const Point& p) {
  return std::min(a.x, b.x) <= p.x && p.x <= std::max(a.x, b.x) && std::min(a.y, b.y) <= p.y &&
         p.y <= std::max(a.y, b.y);
}

// Whether the closed segments [a, b] and [c, d] share at least one point.
bool segments_meet(const Point& a, const Point& b, const Point& c, const Point& d) {
  const int d1 = sign(cross(a, b, c)), d2 = sign(cross(a, b, d));
  const int d3 = sign(cross(c, d, a)), d4 = sign(cross(c, d, b));
  if (d1 * d2 < 0 && d3 * d4 < 0) return true;
  return (d1 == 0 && on_segment(a, b, c)) || (d2 == 0 && on_segment(a, b, d)) ||
         (d3 == 0 && on_segment(c, d, a)) || (d4 == 0 && on_segment(c, d, b));
}

bool valid_indices(const std::vector<Point>& points, const std::vector<int>& order) {
  const int n = static_cast<int>(points.size());
  return std::all_of(order.begin(), order.end(), [n](int i) { return i >= 0 && i < n; });
}

}  // namespace

std::vector<int> convex_hull(const std::vector<Point>& points) {
  // Sorted by (x, y, index): equal points are adjacent with their lowest index first.
  std::vector<int> sorted(points.size());
  std::iota(sorted.begin(), sorted.end(), 0);
  std::sort(sorted.begin(), sorted.end(), [&](int a, int b) {
    const Point &p = points[a], &q = points[b];
    if (p.x != q.x) return p.x < q.x;
    if (p.y != q.y) return p.y < q.y;
    return a < b;
  });
  std::vector<int> unique;
  for (int i : sorted) {
    if (unique.empty() || !same_point(points[unique.back()], points[i])) unique.push_back(i);
  }
  if (unique.size() <= 2) {
    std::sort(unique.begin(), unique.end());
    return unique;
  }
  // Lower hull left to right, then upper hull right to left; a point that does not make a
  // strict left turn (cross <= 0: right turn or collinear) is popped.
  std::vector<int> hull;
  auto add = [&](int i, std::size_t floor) {
    while (hull.size() >= floor &&
           cross(points[hull[hull.size() - 2]], points[hull.back()], points[i]) <= 0) {
      hull.pop_back();
    }
    hull.push_back(i);
  };
  for (int i : unique) add(i, 2);
  const std::size_t lower_size = hull.size() + 1;
  for (auto it = unique.rbegin() + 1; it != unique.rend(); ++it) add(*it, lower_size);
  hull.pop_back();  // the first point again
  if (hull.size() == 2) {  // all collinear: the two extremes
    std::sort(hull.begin(), hull.end());
    return hull;
  }
  std::rotate(hull.begin(), std::min_element(hull.begin(), hull.end()), hull.end());
  return hull;
}

double polygon_area(const std::vector<Point>& points, const std::vector<int>& order) {
  check_argument(valid_indices(points, order), "polygon_area", "order",
                 "to hold indices in [0, " + std::to_string(points.size()) + ")");
  if (order.size() < 3) return 0.0;
  double twice = 0.0;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const Point& a = points[order[k]];
    const Point& b = points[order[(k + 1) % order.size()]];
    twice += a.x * b.y - b.x * a.y;
  }
  return std::abs(twice) / 2.0;
}

bool is_simple_polygon(const std::vector<Point>& points, const std::vector<int>& order) {
  const std::size_t n = order.size();
  if (n < 3 || !valid_indices(points, order)) return false;
  if (std::set<int>(order.begin(), order.end()).size() != n) return false;
  for (std::size_t a = 0; a < n; ++a) {
    for (std::size_t b = a + 1; b < n; ++b) {
      if (same_point(points[order[a]], points[order[b]])) return false;
    }
  }
  auto vertex = [&](std::size_t k) -> const Point& { return points[order[k % n]]; };
  for (std::size_t i = 0; i < n; ++i) {
    // Adjacent edges (i, i+1) and (i+1, i+2) meet at vertex i+1; they overlap further only
    // when collinear and pointing back.
    const Point &p = vertex(i), &q = vertex(i + 1), &r = vertex(i + 2);
    if (cross(p, q, r) == 0 && (q.x - p.x) * (r.x - q.x) + (q.y - p.y) * (r.y - q.y) < 0) {
      return false;
    }
    // Edges that share no vertex must not meet at all.
    for (std::size_t j = i + 2; j < n; ++j) {
      if (i == 0 && j == n - 1) continue;  // edge n-1 closes onto vertex 0: adjacent to edge 0
      if (segments_meet(vertex(i), vertex(i + 1), vertex(j), vertex(j + 1))) return false;
    }
  }
  return true;
}

double hull_area_coverage(const std::vector<Point>& points, const std::vector<int>& predicted) {
  const std::vector<int> hull = convex_hull(points);
  const double hull_area = polygon_area(points, hull);
  if (hull_area == 0.0) {
    return std::set<int>(predicted.begin(), predicted.end()) ==
                   std::set<int>(hull.begin(), hull.end())
               ? 1.0
               : 0.0;
  }
  if (!is_simple_polygon(points, predicted)) return 0.0;
  return std::min(1.0, polygon_area(points, predicted) / hull_area);
}

bool is_exact_hull(const std::vector<Point>& points, const std::vector<int>& predicted) {
  const std::vector<int> hull = convex_hull(points);
  if (predicted.size() != hull.size()) return false;
  if (hull.empty()) return true;
  const auto start = std::find(predicted.begin(), predicted.end(), hull[0]);
  if (start == predicted.end()) return false;
  std::vector<int> rotated(predicted.begin(), predicted.end());
  std::rotate(rotated.begin(), rotated.begin() + (start - predicted.begin()), rotated.end());
  return rotated == hull;
}

}  // namespace gpurnn::train::geometry
