// The tsp task's solvers: Held-Karp against brute force over every permutation, 2-opt between
// its input and the optimum, the nearest-neighbour tour, canonical forms and bad arguments.
#include <algorithm>
#include <numeric>

#include <gtest/gtest.h>

#include "test_support.h"
#include "tasks/counter_rng.h"
#include "tasks/tsp_solvers.h"

namespace gpurnn::testing {
namespace {

using train::tasks::CounterRng;
using train::geometry::Point;
using namespace train::tsp;
using Tour = std::vector<int>;

std::vector<Point> random_cities(std::uint64_t seed, int n) {
  CounterRng rng{seed, static_cast<std::uint64_t>(n)};
  std::vector<Point> points(n);
  for (Point& p : points) p = {rng.uniform(), rng.uniform()};
  return points;
}

// The shortest closed tour by trying every order of cities 1..n-1 after city 0.
double brute_force_length(const std::vector<Point>& points) {
  Tour tour(points.size());
  std::iota(tour.begin(), tour.end(), 0);
  double best = tour_length(points, tour);
  while (std::next_permutation(tour.begin() + 1, tour.end())) {
    best = std::min(best, tour_length(points, tour));
  }
  return best;
}

TEST(TourLength, HandCheckedAndClosed) {
  const std::vector<Point> p{{0, 0}, {3, 0}, {3, 4}, {0, 4}};
  EXPECT_EQ(tour_length(p, {0, 1, 2, 3}), 14.0);  // the 3 x 4 rectangle's perimeter
  EXPECT_EQ(tour_length(p, {0, 2, 1, 3}), 18.0);  // 5 + 4 + 5 + 4 through both diagonals
  EXPECT_EQ(tour_length(p, {0, 2}), 10.0);        // there and back
  EXPECT_EQ(tour_length(p, {1}), 0.0);
  expect_error([&] { tour_length(p, {0, 4}); }, ErrorCode::invalid_argument,
               {"tour_length", "tour"});
}

TEST(IsTour, PermutationsOnly) {
  EXPECT_TRUE(is_tour({2, 0, 1}, 3));
  EXPECT_TRUE(is_tour({}, 0));
  EXPECT_FALSE(is_tour({0, 1}, 3));
  EXPECT_FALSE(is_tour({0, 1, 1}, 3));
  EXPECT_FALSE(is_tour({0, 1, 3}, 3));
  EXPECT_FALSE(is_tour({0, -1, 2}, 3));
}

TEST(HeldKarp, EqualsBruteForceUpToEightCities) {
  int instances = 0;
  for (int n = 1; n <= 8; ++n) {
    for (std::uint64_t seed = 0; seed < 40; ++seed) {
      const std::vector<Point> points = random_cities(seed, n);
      const Tour tour = held_karp(points);
      ASSERT_TRUE(is_tour(tour, n)) << "n " << n << " seed " << seed;
      EXPECT_EQ(tour[0], 0);
      EXPECT_NEAR(tour_length(points, tour), brute_force_length(points), 1e-9)
          << "n " << n << " seed " << seed;
      ++instances;
    }
  }
  EXPECT_EQ(instances, 320);
}

TEST(HeldKarp, SixteenCitiesBeatTheHeuristicsAndSeventeenIsRefused) {
  const std::vector<Point> points = random_cities(5, 16);
  const Tour optimal = held_karp(points);
  ASSERT_TRUE(is_tour(optimal, 16));
  const Tour greedy = nearest_neighbour(points);
  EXPECT_LE(tour_length(points, optimal), tour_length(points, two_opt(points, greedy)) + 1e-9);
  expect_error([] { held_karp(random_cities(1, 17)); }, ErrorCode::invalid_argument,
               {"held_karp", "points", "16"});
  expect_error([] { held_karp({}); }, ErrorCode::invalid_argument, {"held_karp", "points"});
}

TEST(TwoOpt, BetweenItsInputAndTheOptimum) {
  int instances = 0;
  for (int n : {4, 5, 7, 9, 12}) {
    for (std::uint64_t seed = 0; seed < 30; ++seed) {
      const std::vector<Point> points = random_cities(100 + seed, n);
      // A random starting tour (Fisher-Yates), so that 2-opt has work to do.
      Tour start(n);
      std::iota(start.begin(), start.end(), 0);
      CounterRng rng{seed, 99};
      for (int i = n - 1; i > 0; --i) std::swap(start[i], start[rng.below(i + 1)]);
      const Tour improved = two_opt(points, start);
      ASSERT_TRUE(is_tour(improved, n));
      EXPECT_EQ(improved[0], start[0]);
      const double optimum = tour_length(points, held_karp(points));
      EXPECT_LE(tour_length(points, improved), tour_length(points, start) + 1e-12);
      EXPECT_GE(tour_length(points, improved), optimum - 1e-9);
      // 2-opt local optimum: no single reversal shortens it further.
      EXPECT_EQ(two_opt(points, improved), improved);
      ++instances;
    }
  }
  EXPECT_EQ(instances, 150);
}

TEST(TwoOpt, UncrossesTheRectangle) {
  const std::vector<Point> p{{0, 0}, {3, 0}, {3, 4}, {0, 4}};
  const Tour fixed = two_opt(p, {0, 2, 1, 3});
  EXPECT_EQ(tour_length(p, fixed), 14.0);
  EXPECT_EQ(canonical_tour(fixed), (Tour{0, 1, 2, 3}));
  expect_error([&] { two_opt(p, {0, 1, 2}); }, ErrorCode::invalid_argument, {"two_opt", "tour"});
}

TEST(NearestNeighbour, GreedyTourFromCityZero) {
  // On a line: 0 at x=0, then the nearest each time: x=1 (index 2), x=3 (index 1), x=10.
  const std::vector<Point> line{{0, 0}, {3, 0}, {1, 0}, {10, 0}};
  EXPECT_EQ(nearest_neighbour(line), (Tour{0, 2, 1, 3}));
  for (int n : {1, 2, 9, 40}) {
    EXPECT_TRUE(is_tour(nearest_neighbour(random_cities(7, n)), n)) << n;
  }
  EXPECT_TRUE(nearest_neighbour({}).empty());
}

TEST(CanonicalTour, RotationsAndReflectionsAgree) {
  const Tour cycle{3, 1, 4, 0, 5, 2};
  const Tour expected = canonical_tour(cycle);
  // From 0: 0 5 2 3 1 4; 5 > 4, so the part after 0 is reversed.
  EXPECT_EQ(expected, (Tour{0, 4, 1, 3, 2, 5}));
  for (std::size_t shift = 0; shift < cycle.size(); ++shift) {
    Tour rotated = cycle;
    std::rotate(rotated.begin(), rotated.begin() + shift, rotated.end());
    EXPECT_EQ(canonical_tour(rotated), expected);
    std::reverse(rotated.begin(), rotated.end());
    EXPECT_EQ(canonical_tour(rotated), expected);
  }
  EXPECT_EQ(canonical_tour({1, 0}), (Tour{0, 1}));
  EXPECT_EQ(canonical_tour({}), Tour{});
  expect_error([] { canonical_tour({1, 2, 3}); }, ErrorCode::invalid_argument,
               {"canonical_tour", "tour"});
}

}  // namespace
}  // namespace gpurnn::testing
