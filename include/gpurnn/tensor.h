#pragma once
// Tensors: dense, row-major (C order, last dimension fastest).
//   TensorView / ConstTensorView  non-owning: a pointer, a shape, a dtype and a device.
//   Tensor                        owning: shares its storage on copy (like torch.Tensor);
//                                 clone() makes a deep copy.

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>

#include "gpurnn/device.h"
#include "gpurnn/dtype.h"
#include "gpurnn/error.h"
#include "gpurnn/shape.h"

namespace gpurnn {

template <class Void>
class BasicTensorView {
  static_assert(std::is_same_v<std::remove_const_t<Void>, void>, "Void must be void or const void");

 public:
  BasicTensorView() = default;
  BasicTensorView(Void* data, Shape shape, DType dtype, Device device = Device::cpu())
      : data_(data), shape_(shape), dtype_(dtype), device_(device) {}
  // A mutable view converts to a const one.
  template <class Other, class = std::enable_if_t<std::is_const_v<Void> && !std::is_const_v<Other>>>
  BasicTensorView(const BasicTensorView<Other>& other)  // NOLINT(google-explicit-constructor)
      : data_(other.data()), shape_(other.shape()), dtype_(other.dtype()), device_(other.device()) {}

  Void* data() const { return data_; }
  const Shape& shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  int rank() const { return shape_.rank(); }
  std::int64_t dim(int i) const { return shape_[i]; }  // i < 0 counts from the end; checked
  std::int64_t numel() const { return shape_.numel(); }
  std::size_t bytes() const { return static_cast<std::size_t>(numel()) * dtype_size(dtype_); }
  // An empty view (no data) stands for an omitted optional argument.
  bool empty() const { return data_ == nullptr; }

  // Typed access; throws Error(invalid_argument) when T does not match the dtype.
  template <class T>
  std::conditional_t<std::is_const_v<Void>, const T, T>* data_as() const {
    if (dtype_of<T>() != dtype_) {
      throw Error(ErrorCode::invalid_argument, std::string("tensor has dtype ") + to_string(dtype_) +
                                                   ", accessed as " + to_string(dtype_of<T>()));
    }
    return static_cast<std::conditional_t<std::is_const_v<Void>, const T, T>*>(data_);
  }

 private:
  Void* data_ = nullptr;
  Shape shape_;
  DType dtype_ = DType::f32;
  Device device_ = Device::cpu();
};

using TensorView = BasicTensorView<void>;
using ConstTensorView = BasicTensorView<const void>;

// Storage on a CUDA device ("cuda:N", in a build with CUDA) comes from a per-device stream-ordered
// pool: it is allocated and freed in the order of the device's legacy default stream, so work on
// that stream or on any blocking stream is ordered with it; work on a cudaStreamNonBlocking stream
// must wait for the legacy stream before using a new tensor and be finished before the tensor's
// last owner lets go. Its data() is a device pointer: never dereference it on the host. Every
// operation below that touches CUDA memory (zeros, clone, to, fill) has finished when it returns.
class Tensor {
 public:
  Tensor() = default;
  // Uninitialised storage. Throws Error(out_of_memory) when the allocation fails (naming the
  // bytes and the device) and Error(unsupported) for a device this build or machine does not
  // have (a build without CUDA, or no such CUDA device).
  static Tensor empty(Shape shape, DType dtype, Device device = Device::cpu());
  static Tensor zeros(Shape shape, DType dtype, Device device = Device::cpu());
  // A Tensor over memory the caller owns (e.g. a PyTorch tensor's): no allocation, no copy, and
  // nothing freed when the last copy of it goes; the caller keeps the memory alive and in place
  // for as long as any copy, or any work queued with it, uses it. Error(invalid_argument) naming
  // 'view' for a view without memory.
  static Tensor borrow(TensorView view);
  // Copies `numel` values from host memory into a new CPU tensor.
  template <class T>
  static Tensor from_host(Shape shape, const T* values) {
    Tensor t = empty(shape, dtype_of<T>());
    std::copy(values, values + shape.numel(), t.data_as<T>());
    return t;
  }

  void* data() { return data_.get(); }
  const void* data() const { return data_.get(); }
  const Shape& shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  int rank() const { return shape_.rank(); }
  std::int64_t dim(int i) const { return shape_[i]; }  // i < 0 counts from the end; checked
  // 0 for an undefined tensor.
  std::int64_t numel() const { return defined() ? shape_.numel() : 0; }
  std::size_t bytes() const { return static_cast<std::size_t>(numel()) * dtype_size(dtype_); }
  // False for a default-constructed tensor (storage is allocated even for zero elements).
  bool defined() const { return data_ != nullptr; }

  template <class T>
  T* data_as() { return view().data_as<T>(); }
  template <class T>
  const T* data_as() const { return view().data_as<T>(); }

  TensorView view() { return TensorView(data_.get(), shape_, dtype_, device_); }
  ConstTensorView view() const { return ConstTensorView(data_.get(), shape_, dtype_, device_); }
  operator TensorView() { return view(); }             // NOLINT(google-explicit-constructor)
  operator ConstTensorView() const { return view(); }  // NOLINT(google-explicit-constructor)

  // A deep copy on the same device.
  Tensor clone() const;
  // A copy converted to `dtype`, on the same device (values cast as static_cast does; a
  // floating value that does not fit an integer dtype is refused). CUDA tensors convert through
  // the host.
  Tensor to(DType dtype) const;
  // A copy on `device` with the same shape and dtype: host->device, device->host,
  // device->device (across devices too); always new storage, even on the same device.
  Tensor to(Device device) const;
  // Sets every element to `value` (on a CUDA device: built on the host and copied).
  void fill(double value);
  // Same storage, new shape with the same number of elements.
  Tensor reshape(Shape shape) const;

 private:
  std::shared_ptr<void> data_;
  Shape shape_;
  DType dtype_ = DType::f32;
  Device device_ = Device::cpu();
};

// Copies the elements of `src` into `dst` (same dtype and element count; shapes may differ, e.g.
// a slice into a larger tensor's view), across devices too; returns when the copy is complete.
// Error(invalid_argument) naming 'src' or 'dst' otherwise.
void copy_into(ConstTensorView src, TensorView dst);

}  // namespace gpurnn
