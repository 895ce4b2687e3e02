#pragma once
// A tensor shape of up to kMaxRank dimensions, stored inline (building one never allocates).
// Dimensions are non-negative and their product fits in int64 (checked on construction).

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace gpurnn {

class Shape {
 public:
  static constexpr int kMaxRank = 6;

  Shape() = default;
  Shape(std::initializer_list<std::int64_t> dims);
  template <class It>
  Shape(It first, It last) {
    for (; first != last; ++first) push_back(static_cast<std::int64_t>(*first));
  }

  int rank() const { return rank_; }
  // Dimension i; a negative i counts from the end, as in PyTorch (-1 is the last). Throws
  // Error(invalid_argument) for i outside [-rank, rank).
  std::int64_t operator[](int i) const {
    const int k = i < 0 ? i + rank_ : i;
    if (k < 0 || k >= rank_) throw_bad_index(i);
    return dims_[static_cast<std::size_t>(k)];
  }
  std::int64_t numel() const;
  void push_back(std::int64_t dim);
  const std::int64_t* begin() const { return dims_.data(); }
  const std::int64_t* end() const { return dims_.data() + rank_; }

  bool operator==(const Shape& other) const;
  bool operator!=(const Shape& other) const { return !(*this == other); }

 private:
  [[noreturn]] void throw_bad_index(int i) const;

  std::array<std::int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

// "[2, 3, 4]"
std::string to_string(const Shape& shape);

}  // namespace gpurnn
