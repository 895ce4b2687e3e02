#include "gpurnn/tensor.h"

#include "core/device_allocator.h"
#include "core/half_arrays.h"
#include "gpurnn/detail/dtype_dispatch.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <type_traits>
#include <cstring>
#include <new>

namespace gpurnn {
namespace {

constexpr std::size_t kAlignment = 64;  // a cache line; also what AVX-512 loads like

std::shared_ptr<void> allocate_host(std::size_t bytes) {
  // Never zero bytes, so a defined tensor always has storage.
  const std::size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment + kAlignment;
  void* p = std::aligned_alloc(kAlignment, rounded);
  if (p == nullptr) {
    throw Error(ErrorCode::out_of_memory,
                "cannot allocate " + std::to_string(bytes) + " bytes of host memory");
  }
  return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
}

}  // namespace

Tensor Tensor::borrow(TensorView view) {
  check_argument(view.data() != nullptr, "Tensor::borrow", "view",
                 [&] { return "is empty (no memory to borrow for shape " + to_string(view.shape()) + ")"; });
  Tensor t;
  t.shape_ = view.shape();
  t.dtype_ = view.dtype();
  t.device_ = view.device();
  t.data_ = std::shared_ptr<void>(view.data(), [](void*) {});
  return t;
}

Tensor Tensor::empty(Shape shape, DType dtype, Device device) {
  Tensor t;
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.device_ = device;
  const auto count = static_cast<std::size_t>(shape.numel());
  if (count > (SIZE_MAX - 2 * kAlignment) / dtype_size(dtype)) {
    throw Error(ErrorCode::out_of_memory, "Tensor::empty: shape " + to_string(shape) + " of " +
                                              to_string(dtype) + " exceeds the address space");
  }
  const std::size_t bytes = count * dtype_size(dtype);
  t.data_ = device.is_cpu() ? allocate_host(bytes)
                            : detail::allocate_device_storage(bytes, device, "Tensor::empty");
  return t;
}

Tensor Tensor::zeros(Shape shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  if (device.is_cpu()) {
    std::memset(t.data(), 0, t.bytes());
  } else {
    detail::zero_device_storage(t.data(), device, t.bytes());
  }
  return t;
}

Tensor Tensor::clone() const {
  if (!defined()) return Tensor();
  Tensor t = empty(shape_, dtype_, device_);
  if (device_.is_cpu()) {
    std::memcpy(t.data(), data(), bytes());
  } else {
    detail::copy_storage(t.data(), device_, data(), device_, bytes());
  }
  return t;
}

Tensor Tensor::to(Device device) const {
  check_argument(defined(), "Tensor::to", "this", "is an undefined tensor");
  if (device_.is_cpu() && device.is_cpu()) return clone();
  Tensor t = empty(shape_, dtype_, device);
  detail::copy_storage(t.data(), device, data(), device_, bytes());
  return t;
}

Tensor Tensor::to(DType dtype) const {
  check_argument(defined(), "Tensor::to", "this", "is an undefined tensor");
  if (!device_.is_cpu()) {
    if (dtype == dtype_) return clone();
    // f32 <-> bf16/f16 on the device where its platform converts there (mixed precision's hot
    // path); anything else through the host.
    const bool half_pair = (dtype_ == DType::f32 && is_half(dtype)) || (is_half(dtype_) && dtype == DType::f32);
    if (half_pair) {
      Tensor t = empty(shape_, dtype, device_);
      if (detail::convert_half_on_device(data(), dtype_, t.data(), dtype, numel(), device_)) return t;
    }
    return to(Device::cpu()).to(dtype).to(device_);
  }
  Tensor t = empty(shape_, dtype, device_);
  // f32 <-> bf16/f16, the mixed-precision hot path: the bulk loops (the same rounding as below).
  if (dtype_ == DType::f32 && is_half(dtype)) {
    detail::narrow_to_half(dtype, data_as<float>(), t.data(), numel());
    return t;
  }
  if (is_half(dtype_) && dtype == DType::f32) {
    detail::widen_half(dtype_, data(), t.data_as<float>(), numel());
    return t;
  }
  detail::visit_dtype(dtype_, [&](auto from) {
    detail::visit_dtype(dtype, [&](auto to) {
      using From = decltype(from);
      using To = decltype(to);
      const From* src = data_as<From>();
      if constexpr (is_real_v<From> && std::is_integral_v<To>) {
        // Casting NaN or an out-of-range value to an integer is undefined: refuse it.
        for (std::int64_t k = 0; k < numel(); ++k) {
          // [min, max + 1): both bounds are exact powers of two in float and double.
          using Wide = std::conditional_t<is_half_v<From>, float, From>;
          const Wide value = static_cast<Wide>(src[k]);
          const Wide lower = static_cast<Wide>(std::numeric_limits<To>::min());
          const Wide upper = static_cast<Wide>(std::numeric_limits<To>::max()) + Wide(1);
          const bool fits = value >= lower && value < upper;  // false for NaN
          check_argument(fits, "Tensor::to", "this", [&] {
            return "element " + std::to_string(k) + " (" + std::to_string(value) + ") is not representable as " +
                   to_string(dtype);
          });
        }
      }
      std::transform(src, src + numel(), t.data_as<To>(), [](From v) {
        if constexpr (is_half_v<From> && !std::is_same_v<From, To>) {
          return static_cast<To>(static_cast<float>(v));  // exact: every half value is a float
        } else {
          return static_cast<To>(v);
        }
      });
    });
  });
  return t;
}

void Tensor::fill(double value) {
  check_argument(defined(), "Tensor::fill", "this", "is an undefined tensor");
  if (!device_.is_cpu()) {
    if (value == 0.0 && !std::signbit(value)) {  // +0 is all-zero bytes in every dtype
      detail::zero_device_storage(data(), device_, bytes());
      return;
    }
    Tensor host = empty(shape_, dtype_, Device::cpu());
    host.fill(value);
    detail::copy_storage(data(), device_, host.data(), Device::cpu(), bytes());
    return;
  }
  detail::visit_dtype(dtype_, [&](auto tag) {
    using T = decltype(tag);
    std::fill(data_as<T>(), data_as<T>() + numel(), static_cast<T>(value));
  });
}

Tensor Tensor::reshape(Shape shape) const {
  check_argument(defined(), "Tensor::reshape", "this", "is an undefined tensor");
  check_argument(shape.numel() == numel(), "Tensor::reshape", "shape", [&] {
    return to_string(shape) + " has " + std::to_string(shape.numel()) + " elements, expected " +
           std::to_string(numel()) + " (from " + to_string(shape_) + ")";
  });
  Tensor t = *this;
  t.shape_ = shape;
  return t;
}

void copy_into(ConstTensorView src, TensorView dst) {
  check_argument(!src.empty() || src.numel() == 0, "copy_into", "src", "is an empty view");
  check_argument(!dst.empty() || dst.numel() == 0, "copy_into", "dst", "is an empty view");
  check_argument(src.dtype() == dst.dtype(), "copy_into", "dst", [&] {
    return std::string("has dtype ") + to_string(dst.dtype()) + ", src has " + to_string(src.dtype());
  });
  check_argument(src.numel() == dst.numel(), "copy_into", "dst", [&] {
    return "has " + std::to_string(dst.numel()) + " elements, src has " + std::to_string(src.numel());
  });
  if (src.numel() == 0) return;
  if (src.device().is_cpu() && dst.device().is_cpu()) {
    std::memmove(dst.data(), src.data(), src.bytes());
  } else {
    detail::copy_storage(dst.data(), dst.device(), src.data(), src.device(), src.bytes());
  }
}

}  // namespace gpurnn
