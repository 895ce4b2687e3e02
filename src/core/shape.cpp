#include "gpurnn/shape.h"

#include "gpurnn/error.h"

namespace gpurnn {

Shape::Shape(std::initializer_list<std::int64_t> dims) {
  for (std::int64_t d : dims) push_back(d);
}

void Shape::push_back(std::int64_t dim) {
  if (rank_ == kMaxRank) {
    throw Error(ErrorCode::invalid_argument,
                "shape has more than " + std::to_string(kMaxRank) + " dimensions");
  }
  if (dim < 0) {
    throw Error(ErrorCode::invalid_argument,
                "shape dimension " + std::to_string(rank_) + " is negative (" +
                    std::to_string(dim) + ")");
  }
  std::int64_t product = 0;
  if (__builtin_mul_overflow(numel(), dim, &product)) {
    throw Error(ErrorCode::invalid_argument,
                "shape " + to_string(*this) + " extended by " + std::to_string(dim) +
                    " has more elements than a 64-bit count holds");
  }
  dims_[static_cast<std::size_t>(rank_++)] = dim;
}

void Shape::throw_bad_index(int i) const {
  throw Error(ErrorCode::invalid_argument,
              "dimension index " + std::to_string(i) + " is out of range for shape " + to_string(*this) +
                  " (rank " + std::to_string(rank_) + ": expected " + std::to_string(-rank_) + " to " +
                  std::to_string(rank_ - 1) + ")");
}

std::int64_t Shape::numel() const {
  std::int64_t n = 1;
  for (int i = 0; i < rank_; ++i) n *= dims_[static_cast<std::size_t>(i)];
  return n;
}

bool Shape::operator==(const Shape& other) const {
  if (rank_ != other.rank_) return false;
  for (int i = 0; i < rank_; ++i) {
    if ((*this)[i] != other[i]) return false;
  }
  return true;
}

std::string to_string(const Shape& shape) {
  std::string s = "[";
  for (int i = 0; i < shape.rank(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace gpurnn
