// The convex-hull task's geometry: the monotone chain against a brute-force hull on random and
// tie-heavy point sets, the shoelace area, polygon simplicity and the hull scores.
#include <algorithm>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "test_support.h"
#include "tasks/counter_rng.h"
#include "tasks/geometry.h"

namespace gpurnn::testing {
namespace {

using train::tasks::CounterRng;
using train::geometry::Point;
using Indices = std::vector<int>;

double cross(const Point& o, const Point& a, const Point& b) {
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

// The O(n^3) hull: among the distinct points (the lowest index standing for duplicates), the
// directed edge i -> j is a counter-clockwise hull edge when every other point is strictly on
// its left or strictly between i and j on the line. Vertices are the edges' ends; the cycle is
// followed from the lowest index.
Indices brute_force_hull(const std::vector<Point>& points) {
  Indices distinct;
  for (int i = 0; i < static_cast<int>(points.size()); ++i) {
    bool seen = false;
    for (int j : distinct) seen |= points[j].x == points[i].x && points[j].y == points[i].y;
    if (!seen) distinct.push_back(i);
  }
  if (distinct.size() <= 2) return distinct;
  std::map<int, int> next;
  for (int i : distinct) {
    for (int j : distinct) {
      if (i == j) continue;
      bool edge = true;
      for (int k : distinct) {
        if (k == i || k == j) continue;
        const double c = cross(points[i], points[j], points[k]);
        const Point &a = points[i], &b = points[j], &p = points[k];
        const bool between = (p.x - a.x) * (b.x - p.x) + (p.y - a.y) * (b.y - p.y) > 0;
        edge &= c > 0 || (c == 0 && between);
      }
      if (edge) next[i] = j;
    }
  }
  if (next.size() == 2) {  // all collinear: the two extremes, each an edge to the other
    return {next.begin()->first, std::next(next.begin())->first};
  }
  Indices hull{next.begin()->first};
  while (static_cast<int>(hull.size()) < static_cast<int>(next.size())) {
    hull.push_back(next.at(hull.back()));
  }
  EXPECT_EQ(next.at(hull.back()), hull.front()) << "the brute-force edges do not close";
  return hull;
}

std::vector<Point> random_points(CounterRng& rng, int n, bool on_grid) {
  std::vector<Point> points(n);
  for (Point& p : points) {
    if (on_grid) {  // a 5x5 grid: many duplicates and collinear triples
      p = {static_cast<double>(rng.below(5)), static_cast<double>(rng.below(5))};
    } else {
      p = {rng.uniform(), rng.uniform()};
    }
  }
  return points;
}

TEST(ConvexHull, MatchesBruteForceOnRandomAndGridPoints) {
  int checked = 0;
  for (bool on_grid : {false, true}) {
    for (std::uint64_t trial = 0; trial < 300; ++trial) {
      CounterRng rng{17, on_grid, trial};
      const int n = 3 + static_cast<int>(rng.below(48));
      const std::vector<Point> points = random_points(rng, n, on_grid);
      const Indices hull = train::geometry::convex_hull(points);
      ASSERT_EQ(hull, brute_force_hull(points)) << "n " << n << " grid " << on_grid;
      if (hull.size() >= 3) {
        EXPECT_TRUE(train::geometry::is_simple_polygon(points, hull));
        EXPECT_EQ(train::geometry::hull_area_coverage(points, hull), 1.0);
        EXPECT_GT(cross(points[hull[0]], points[hull[1]], points[hull[2]]), 0) << "not ccw";
      }
      Indices rotated = hull;
      std::rotate(rotated.begin(), rotated.begin() + rotated.size() / 2, rotated.end());
      EXPECT_TRUE(train::geometry::is_exact_hull(points, rotated));
      ++checked;
    }
  }
  EXPECT_EQ(checked, 600);
}

TEST(ConvexHull, HandWrittenTiesCollinearAndDuplicates) {
  using train::geometry::convex_hull;
  EXPECT_EQ(convex_hull({}), Indices{});
  EXPECT_EQ(convex_hull({{3, 4}}), Indices{0});
  EXPECT_EQ(convex_hull({{1, 1}, {1, 1}, {1, 1}}), Indices{0});
  EXPECT_EQ(convex_hull({{2, 0}, {0, 0}}), (Indices{0, 1}));
  // Collinear along a diagonal, extremes at indices 1 and 3, a duplicate of 3 at index 4.
  EXPECT_EQ(convex_hull({{1, 1}, {0, 0}, {2, 2}, {3, 3}, {3, 3}}), (Indices{1, 3}));
  // Vertical line: the sort ties on x.
  EXPECT_EQ(convex_hull({{0, 2}, {0, 0}, {0, 1}}), (Indices{0, 1}));
  // A square with points on every edge, the centre, and duplicated corners (indices 8, 9
  // repeat corners 3 and 0; the lowest index stands for each).
  const std::vector<Point> square{{0, 0}, {1, 0}, {2, 0}, {2, 2}, {1, 2},
                                  {0, 2}, {0, 1}, {1, 1}, {2, 2}, {0, 0}};
  EXPECT_EQ(convex_hull(square), (Indices{0, 2, 3, 5}));
  // The lowest-index vertex is not the leftmost: the rotation starts at index 0.
  EXPECT_EQ(convex_hull({{1, 0}, {0, 1}, {-1, 0}, {0, -1}, {0, 0}}), (Indices{0, 1, 2, 3}));
  // A duplicate with a lower index than its twin represents the vertex.
  EXPECT_EQ(convex_hull({{5, 5}, {0, 0}, {4, 0}, {0, 0}, {0, 4}}), (Indices{0, 4, 1, 2}));
}

TEST(PolygonArea, ShoelaceOnHandCheckedPolygons) {
  using train::geometry::polygon_area;
  const std::vector<Point> p{{0, 0}, {4, 0}, {4, 3}, {0, 3}, {2, 1}};
  EXPECT_EQ(polygon_area(p, {0, 1, 2, 3}), 12.0);         // 4 x 3 rectangle
  EXPECT_EQ(polygon_area(p, {3, 2, 1, 0}), 12.0);         // clockwise: still positive
  EXPECT_EQ(polygon_area(p, {0, 1, 3}), 6.0);             // right triangle 4 * 3 / 2
  // The rectangle with a notch to (2, 1): 12 minus triangle (0,0),(4,0),(2,1) = 4 * 1 / 2.
  EXPECT_EQ(polygon_area(p, {0, 4, 1, 2, 3}), 10.0);
  EXPECT_EQ(polygon_area(p, {0, 1}), 0.0);
  EXPECT_EQ(polygon_area(p, {}), 0.0);
  expect_error([&] { polygon_area(p, {0, 1, 5}); }, ErrorCode::invalid_argument,
               {"polygon_area", "order"});
  expect_error([&] { polygon_area(p, {0, -1, 2}); }, ErrorCode::invalid_argument,
               {"polygon_area", "order"});
}

TEST(SimplePolygon, BowTieFoldsTouchesAndRepeatsAreNotSimple) {
  using train::geometry::is_simple_polygon;
  const std::vector<Point> p{{0, 0}, {2, 0}, {2, 2}, {0, 2}, {1, 0}, {1, 1}, {0, 0}};
  EXPECT_TRUE(is_simple_polygon(p, {0, 1, 2, 3}));
  EXPECT_TRUE(is_simple_polygon(p, {3, 2, 1, 0}));
  EXPECT_TRUE(is_simple_polygon(p, {0, 4, 1, 2, 3}));     // (1, 0) on the bottom edge
  EXPECT_TRUE(is_simple_polygon(p, {0, 1, 2, 5}));        // concave through the centre
  EXPECT_FALSE(is_simple_polygon(p, {0, 2, 1, 3}));       // bow-tie: the diagonals cross
  EXPECT_FALSE(is_simple_polygon(p, {0, 1, 4, 2, 3}));    // 1 -> 4 folds back over 0 -> 1
  EXPECT_FALSE(is_simple_polygon(p, {0, 1, 4}));          // a flat triangle
  EXPECT_FALSE(is_simple_polygon(p, {0, 1, 2, 3, 0}));    // an index twice
  EXPECT_FALSE(is_simple_polygon(p, {6, 1, 2, 3, 0}));    // two indices, one point
  EXPECT_FALSE(is_simple_polygon(p, {0, 1}));
  EXPECT_FALSE(is_simple_polygon(p, {0, 1, 7}));          // an invalid index
  // Pinched: 0 -> 1 -> 2 -> 5 -> 4 -> 3 reaches (1, 0), a point of the non-adjacent bottom
  // edge 0 -> 1, from inside.
  EXPECT_FALSE(is_simple_polygon(p, {0, 1, 2, 5, 4, 3}));
}

TEST(HullScores, CoverageAndExactMatch) {
  using train::geometry::hull_area_coverage;
  using train::geometry::is_exact_hull;
  // Hull 0 -> 1 -> 2 -> 3 of the 4 x 4 square, area 16; point 4 inside.
  const std::vector<Point> p{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {1, 2}};
  EXPECT_EQ(hull_area_coverage(p, {0, 1, 2, 3}), 1.0);
  EXPECT_EQ(hull_area_coverage(p, {2, 3, 0, 1}), 1.0);
  EXPECT_EQ(hull_area_coverage(p, {0, 1, 2}), 0.5);       // a vertex missing: 8 / 16
  // Through the inner point: 16 minus triangle (0,4),(0,0),(1,2) = 4 * 1 / 2.
  EXPECT_EQ(hull_area_coverage(p, {0, 1, 2, 3, 4}), 14.0 / 16.0);
  EXPECT_EQ(hull_area_coverage(p, {0, 2, 1, 3}), 0.0);    // bow-tie
  EXPECT_EQ(hull_area_coverage(p, {0, 1}), 0.0);
  EXPECT_TRUE(is_exact_hull(p, {0, 1, 2, 3}));
  EXPECT_TRUE(is_exact_hull(p, {3, 0, 1, 2}));
  EXPECT_FALSE(is_exact_hull(p, {3, 2, 1, 0}));           // clockwise
  EXPECT_FALSE(is_exact_hull(p, {0, 1, 2}));
  EXPECT_FALSE(is_exact_hull(p, {0, 1, 2, 3, 4}));
  EXPECT_FALSE(is_exact_hull(p, {0, 1, 2, 4}));
  // A zero-area true hull: the collinear extremes as a set.
  const std::vector<Point> line{{1, 1}, {0, 0}, {2, 2}};
  EXPECT_EQ(hull_area_coverage(line, {1, 2}), 1.0);
  EXPECT_EQ(hull_area_coverage(line, {2, 1}), 1.0);
  EXPECT_EQ(hull_area_coverage(line, {0, 1}), 0.0);
  EXPECT_EQ(hull_area_coverage(line, {0, 1, 2}), 0.0);
  EXPECT_TRUE(is_exact_hull(line, {2, 1}));
}

}  // namespace
}  // namespace gpurnn::testing
