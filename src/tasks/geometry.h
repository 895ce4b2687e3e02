#pragma once
// Plane geometry for the convex-hull pointer-network task: the exact hull (Andrew's monotone
// chain), polygon area and simplicity, and the scores of a predicted hull (Vinyals, Fortunato
// and Jaitly 2015, "Pointer Networks": exact match and area coverage).
//
// Predicates compare doubles exactly (no epsilon): points drawn at random are in general
// position, and hand-made ties (collinear, duplicate) are exact in binary.

#include <vector>

namespace gpurnn::train::geometry {

struct Point {
  double x = 0, y = 0;
};

// The indices of the convex hull's vertices in counter-clockwise order, starting at the lowest
// index among them. Points strictly inside, or on an edge between two vertices (collinear), are
// not vertices. Duplicate points: the lowest index represents them. No points: empty; all
// points equal: {lowest index}; all collinear: the two extreme points, lowest index first.
std::vector<int> convex_hull(const std::vector<Point>& points);

// The absolute shoelace area of the closed polygon points[order[0]], points[order[1]], ...
// Fewer than 3 indices: 0. Error(invalid_argument) for an index outside [0, points.size()).
double polygon_area(const std::vector<Point>& points, const std::vector<int>& order);

// True when `order` has at least 3 valid indices, no index twice, no two of its points equal,
// and its closed polygon's edges meet only where adjacent edges share their vertex (no
// crossing, no touching, no adjacent edges folding back over each other).
bool is_simple_polygon(const std::vector<Point>& points, const std::vector<int>& order);

// Area coverage of a predicted hull: polygon_area(predicted) / area of the true hull when
// `predicted` is a simple polygon, else 0 (clamped to at most 1 against rounding: a polygon on
// the points lies inside their hull). When the true hull has zero area (fewer than 3 distinct
// points, or all collinear): 1 if `predicted` equals it as a set of indices, else 0.
double hull_area_coverage(const std::vector<Point>& points, const std::vector<int>& predicted);

// Whether `predicted` is a rotation of convex_hull(points) (counter-clockwise; the reversed,
// clockwise order does not count).
bool is_exact_hull(const std::vector<Point>& points, const std::vector<int>& predicted);

}  // namespace gpurnn::train::geometry
