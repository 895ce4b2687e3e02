#pragma once
// Euclidean travelling-salesman tours for the tsp pointer-network task: the exact optimum by
// Held-Karp for the small instances the task trains on, and the nearest-neighbour and 2-opt
// heuristics it reports as baselines. A tour is a permutation of 0..n-1, closed (the last
// city returns to the first).

#include <vector>

#include "tasks/geometry.h"

namespace gpurnn::train::tsp {

// The length of the closed tour (0 for fewer than 2 cities). Error(invalid_argument) for an
// index outside [0, points.size()).
double tour_length(const std::vector<geometry::Point>& points, const std::vector<int>& tour);

// Whether `tour` is a permutation of 0..n-1.
bool is_tour(const std::vector<int>& tour, int n);

// The shortest tour, exactly, by Held-Karp's dynamic programme over subsets: O(2^n n^2) time,
// O(2^n n) memory; starts at city 0. n in [1, kHeldKarpMaxCities], else Error(invalid_argument).
constexpr int kHeldKarpMaxCities = 16;
std::vector<int> held_karp(const std::vector<geometry::Point>& points);

// Greedy: from city 0 always to the nearest unvisited city (ties: the lowest index).
std::vector<int> nearest_neighbour(const std::vector<geometry::Point>& points);

// First-improvement 2-opt from `tour`: reverses a segment whenever that shortens the tour by
// more than 1e-12, until no reversal does. The result still starts at tour[0].
// Error(invalid_argument) unless `tour` is a tour of the points.
std::vector<int> two_opt(const std::vector<geometry::Point>& points, std::vector<int> tour);

// The tour rotated to start at city 0 and, when tour[1] > tour.back(), its direction reversed,
// so that every rotation and reflection of one cycle has the same canonical form.
// Error(invalid_argument) unless `tour` is a permutation of 0..tour.size()-1.
std::vector<int> canonical_tour(const std::vector<int>& tour);

}  // namespace gpurnn::train::tsp
