#include "tasks/tsp_solvers.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "gpurnn/error.h"

namespace gpurnn::train::tsp {
namespace {

using geometry::Point;

double distance(const Point& a, const Point& b) { return std::hypot(a.x - b.x, a.y - b.y); }

}  // namespace

double tour_length(const std::vector<Point>& points, const std::vector<int>& tour) {
  const int n = static_cast<int>(points.size());
  check_argument(std::all_of(tour.begin(), tour.end(), [n](int i) { return i >= 0 && i < n; }),
                 "tour_length", "tour", "to hold indices in [0, " + std::to_string(n) + ")");
  double length = 0.0;
  for (std::size_t k = 0; tour.size() >= 2 && k < tour.size(); ++k) {
    length += distance(points[tour[k]], points[tour[(k + 1) % tour.size()]]);
  }
  return length;
}

bool is_tour(const std::vector<int>& tour, int n) {
  if (n < 0 || static_cast<int>(tour.size()) != n) return false;
  std::vector<bool> seen(static_cast<std::size_t>(n), false);
  for (int city : tour) {
    if (city < 0 || city >= n || seen[city]) return false;
    seen[city] = true;
  }
  return true;
}

std::vector<int> held_karp(const std::vector<Point>& points) {
  const int n = static_cast<int>(points.size());
  check_argument(n >= 1 && n <= kHeldKarpMaxCities, "held_karp", "points",
                 "to hold 1 to " + std::to_string(kHeldKarpMaxCities) +
                     " cities (the table grows as 2^n n), got " + std::to_string(n));
  if (n <= 3) {  // every tour of up to 3 cities has the same length
    std::vector<int> tour(n);
    for (int i = 0; i < n; ++i) tour[i] = i;
    return tour;
  }
  // City c in 1..n-1 is bit c-1 of a subset. best[subset * m + c - 1]: the shortest path from
  // city 0 through exactly `subset` ending at c (c in subset); from[...]: the city before c.
  const int m = n - 1;
  const std::size_t subsets = std::size_t{1} << m;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<double> best(subsets * m, kInf);
  std::vector<signed char> from(subsets * m, -1);
  for (int c = 1; c < n; ++c) {
    best[(std::size_t{1} << (c - 1)) * m + c - 1] = distance(points[0], points[c]);
  }
  for (std::size_t subset = 1; subset < subsets; ++subset) {
    for (int c = 1; c < n; ++c) {
      const std::size_t bit = std::size_t{1} << (c - 1);
      if (!(subset & bit) || subset == bit) continue;
      const std::size_t rest = subset ^ bit;
      double& cell = best[subset * m + c - 1];
      for (int p = 1; p < n; ++p) {
        if (!(rest & (std::size_t{1} << (p - 1)))) continue;
        const double via = best[rest * m + p - 1] + distance(points[p], points[c]);
        if (via < cell) {
          cell = via;
          from[subset * m + c - 1] = static_cast<signed char>(p);
        }
      }
    }
  }
  const std::size_t all = subsets - 1;
  int last = 1;
  for (int c = 2; c < n; ++c) {
    if (best[all * m + c - 1] + distance(points[c], points[0]) <
        best[all * m + last - 1] + distance(points[last], points[0])) {
      last = c;
    }
  }
  std::vector<int> reversed;
  std::size_t subset = all;
  for (int c = last; c != -1;) {
    reversed.push_back(c);
    const int previous = from[subset * m + c - 1];
    subset ^= std::size_t{1} << (c - 1);
    c = previous;
  }
  reversed.push_back(0);
  return {reversed.rbegin(), reversed.rend()};
}

std::vector<int> nearest_neighbour(const std::vector<Point>& points) {
  const int n = static_cast<int>(points.size());
  std::vector<int> tour;
  if (n == 0) return tour;
  std::vector<bool> visited(static_cast<std::size_t>(n), false);
  tour.push_back(0);
  visited[0] = true;
  while (static_cast<int>(tour.size()) < n) {
    int nearest = -1;
    double nearest_distance = std::numeric_limits<double>::infinity();
    for (int c = 0; c < n; ++c) {
      const double d = distance(points[tour.back()], points[c]);
      if (!visited[c] && d < nearest_distance) {
        nearest = c;
        nearest_distance = d;
      }
    }
    tour.push_back(nearest);
    visited[nearest] = true;
  }
  return tour;
}

std::vector<int> two_opt(const std::vector<Point>& points, std::vector<int> tour) {
  const int n = static_cast<int>(points.size());
  check_argument(is_tour(tour, n), "two_opt", "tour",
                 "to be a permutation of the " + std::to_string(n) + " cities");
  auto d = [&](int a, int b) { return distance(points[tour[a]], points[tour[b]]); };
  // Edges (i, i+1) and (j, j+1 mod n), 0 <= i, i + 2 <= j: reversing tour[i+1..j] replaces
  // them by (i, j) and (i+1, j+1). tour[0] never moves.
  for (bool improved = true; improved;) {
    improved = false;
    for (int i = 0; i + 2 < n; ++i) {
      for (int j = i + 2; j < n; ++j) {
        if (i == 0 && j == n - 1) continue;  // the two edges share city 0
        const int after_j = (j + 1) % n;
        const double change = d(i, j) + d(i + 1, after_j) - d(i, i + 1) - d(j, after_j);
        if (change < -1e-12) {
          std::reverse(tour.begin() + i + 1, tour.begin() + j + 1);
          improved = true;
        }
      }
    }
  }
  return tour;
}

std::vector<int> canonical_tour(const std::vector<int>& tour) {
  check_argument(is_tour(tour, static_cast<int>(tour.size())), "canonical_tour", "tour",
                 "to be a permutation of 0.." + std::to_string(static_cast<int>(tour.size()) - 1));
  std::vector<int> canonical = tour;
  if (canonical.empty()) return canonical;
  std::rotate(canonical.begin(), std::find(canonical.begin(), canonical.end(), 0),
              canonical.end());
  if (canonical.size() >= 3 && canonical[1] > canonical.back()) {
    std::reverse(canonical.begin() + 1, canonical.end());
  }
  return canonical;
}

}  // namespace gpurnn::train::tsp
