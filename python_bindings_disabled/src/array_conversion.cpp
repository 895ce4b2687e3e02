#include "array_conversion.h"

#include <atomic>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace gpurnn::python {
namespace {

std::atomic<std::size_t> g_input_copies{0};

py::module_ numpy() { return py::module_::import("numpy"); }

std::string type_name(py::handle obj) { return py::str(py::type::of(obj).attr("__name__")); }

std::string dtype_name(const py::array& a) { return py::str(a.dtype()); }

// " (numpy.asarray of a list)" when `obj` was not an ndarray, so the dtype can be traced.
std::string from_what(py::handle obj) {
  if (py::isinstance<py::array>(obj)) return "";
  return " (numpy.asarray of a " + type_name(obj) + ")";
}

std::vector<py::ssize_t> dims_of(const Shape& shape) { return {shape.begin(), shape.end()}; }

// "[2, 3] with strides (12, 8) bytes" for messages about layout.
std::string describe_layout(const py::array& a) {
  std::string shape, strides;
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    shape += (i ? ", " : "") + std::to_string(a.shape(i));
    strides += (i ? ", " : "") + std::to_string(a.strides(i));
  }
  return "[" + shape + "] with strides (" + strides + ") bytes";
}

// The array behind `obj` (numpy.asarray: an ndarray is returned as is, never copied).
py::array as_array(py::handle obj, const char* where, const char* name, const char* expected) {
  if (py::isinstance<py::array>(obj)) return py::reinterpret_borrow<py::array>(obj);
  try {
    return numpy().attr("asarray")(obj);
  } catch (const py::error_already_set& e) {
    const std::string why = py::str(e.type().attr("__name__")).cast<std::string>() + ": " +
                            py::str(e.value()).cast<std::string>();
    throw Error(ErrorCode::invalid_argument, std::string(where) + ": argument '" + name +
                                                 "' is a " + type_name(obj) +
                                                 " that numpy.asarray refuses (" + why +
                                                 "), expected " + expected);
  }
}

// A fresh, aligned, C-contiguous copy of `a` in `dtype_text`.
py::array copy_as(const py::array& a, const char* dtype_text) {
  return numpy().attr("array")(a, py::arg("dtype") = dtype_text, py::arg("order") = "C",
                               py::arg("copy") = true);
}

bool is_native(const py::array& a) { return a.dtype().attr("isnative").cast<bool>(); }
bool is_c_contiguous(const py::array& a) { return (a.flags() & py::array::c_style) != 0; }
bool is_aligned(const py::array& a) {
  return reinterpret_cast<std::uintptr_t>(a.data()) % static_cast<std::uintptr_t>(a.itemsize()) == 0;
}

Shape shape_of(const py::array& a, const char* where, const char* name) {
  check_argument(a.ndim() <= Shape::kMaxRank, where, name,
                 "has " + std::to_string(a.ndim()) + " dimensions, more than any RNN argument");
  return Shape(a.shape(), a.shape() + a.ndim());
}

InputArray make_input(py::array a, DType dtype, const char* where, const char* name) {
  InputArray in;
  in.view = ConstTensorView(a.data(), shape_of(a, where, name), dtype);
  in.array = std::move(a);
  return in;
}

}  // namespace

void InputArray::reshape(const Shape& shape) {
  view = ConstTensorView(view.data(), shape, view.dtype(), view.device());
}

void InputArray::copy_if_overlaps(const InputArray& other) {
  if (!given() || !other.given()) return;
  const auto* a = static_cast<const unsigned char*>(view.data());
  const auto* b = static_cast<const unsigned char*>(other.view.data());
  if (a < b + other.view.bytes() && b < a + view.bytes()) {
    py::array copy = copy_as(py::reinterpret_borrow<py::array>(array), numpy_storage(view.dtype()));
    ++g_input_copies;
    view = ConstTensorView(copy.data(), view.shape(), view.dtype(), view.device());
    array = std::move(copy);
  }
}

InputArray float_input(py::handle obj, const char* where, const char* name, DType dtype,
                       bool optional, Layout layout) {
  if (obj.is_none()) {
    check_argument(optional, where, name, "is required, got None");
    return {py::none(), {}};
  }
  // A half model takes its own storage as is: numpy float16 for f16, and for bf16 (which numpy
  // lacks) uint16 arrays of bfloat16 bit patterns; float32/float64 arrays are rounded to nearest.
  const std::string expected =
      dtype == DType::bf16 ? "float32, float64 or bfloat16 bit patterns as uint16"
      : dtype == DType::f16 ? "float16, float32 or float64"
                            : "float32 or float64";
  py::array a = as_array(obj, where, name, ("a " + expected + " array").c_str());
  const char kind = a.dtype().kind();
  const bool wide = kind == 'f' && (a.itemsize() == 4 || a.itemsize() == 8);
  const bool own_half = a.itemsize() == 2 && ((dtype == DType::f16 && kind == 'f') ||
                                              (dtype == DType::bf16 && kind == 'u'));
  check_argument(wide || own_half, where, name,
                 "has dtype " + dtype_name(a) + from_what(obj) + ", expected " + expected +
                     " (the model is " + numpy_name(dtype) + ")");
  if (layout == Layout::require_contiguous) {
    check_argument(is_c_contiguous(a), where, name,
                   "is not C-contiguous (" + describe_layout(a) +
                       "); pass numpy.ascontiguousarray(" + name + ")");
  }
  const bool exact = a.itemsize() == static_cast<py::ssize_t>(dtype_size(dtype)) && is_native(a) &&
                     is_c_contiguous(a) && is_aligned(a);
  if (exact) return make_input(std::move(a), dtype, where, name);
  ++g_input_copies;
  if (dtype != DType::bf16 || own_half) return make_input(copy_as(a, numpy_storage(dtype)), dtype, where, name);
  // float32/float64 -> bfloat16 bits, rounded to nearest even (numpy cannot).
  const py::array_t<double> values = copy_as(a, "float64");
  py::array_t<std::uint16_t> bits(std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim()));
  const double* src = values.data();
  std::uint16_t* dst = bits.mutable_data();
  for (py::ssize_t k = 0; k < values.size(); ++k) dst[k] = bfloat16_bits_from(src[k]);
  return make_input(std::move(bits), dtype, where, name);
}

InputArray lengths_input(py::handle obj, const char* where) {
  if (obj.is_none()) return {py::none(), {}};
  py::array a = as_array(obj, where, "lengths", "an int32 or int64 array");
  const char kind = a.dtype().kind();
  check_argument(kind == 'i' || kind == 'u', where, "lengths",
                 "has dtype " + dtype_name(a) + from_what(obj) +
                     ", expected integers (int32 or int64)");
  const py::array_t<std::int64_t> wide = copy_as(a, "int64");
  py::array_t<std::int32_t> narrow(std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim()));
  const std::int64_t* src = wide.data();
  std::int32_t* dst = narrow.mutable_data();
  for (py::ssize_t k = 0; k < wide.size(); ++k) {
    check_argument(src[k] >= 0 && src[k] <= INT32_MAX, where, "lengths",
                   "has the value " + std::to_string(src[k]) + " at index " + std::to_string(k) +
                       ", outside [0, 2^31)");
    dst[k] = static_cast<std::int32_t>(src[k]);
  }
  return make_input(std::move(narrow), DType::i32, where, "lengths");
}

py::array new_array(DType dtype, const Shape& shape) {
  return py::array(py::dtype(numpy_storage(dtype)), dims_of(shape));
}

TensorView mutable_view(py::array& array, DType dtype) {
  return TensorView(array.mutable_data(), Shape(array.shape(), array.shape() + array.ndim()), dtype);
}

py::array borrowed_array(void* data, DType dtype, const Shape& shape, py::handle owner) {
  return py::array(py::dtype(numpy_storage(dtype)), dims_of(shape), {}, data, owner);
}

py::object tensor_owner(const Tensor& tensor) {
  return py::capsule(new Tensor(tensor), [](void* p) { delete static_cast<Tensor*>(p); });
}

const char* numpy_name(DType dtype) {
  switch (dtype) {
    case DType::f32: return "float32";
    case DType::f64: return "float64";
    case DType::bf16: return "bfloat16";
    case DType::f16: return "float16";
    case DType::i32: return "int32";
    case DType::i64: return "int64";
    case DType::u8: return "uint8";
  }
  return "unknown";
}

const char* numpy_storage(DType dtype) {
  return dtype == DType::bf16 ? "uint16" : numpy_name(dtype);
}

DType parse_float_dtype(py::handle obj, const char* where) {
  // numpy's spelling ("float32", "f4", "double", "half", numpy.float32, float) plus libgpurnn's
  // f32/f64/f16/bf16 and "bfloat16" (which numpy does not know).
  std::string text = py::isinstance<py::str>(obj) ? obj.cast<std::string>() : "";
  if (text != "f32" && text != "f64" && text != "f16" && text != "bf16" && text != "bfloat16") {
    try {
      text = py::str(numpy().attr("dtype")(obj).attr("name"));
    } catch (const py::error_already_set&) {
      text = py::str(py::repr(obj));
    }
  }
  if (text == "float32" || text == "f32") return DType::f32;
  if (text == "float64" || text == "f64") return DType::f64;
  if (text == "float16" || text == "f16") return DType::f16;
  if (text == "bfloat16" || text == "bf16") return DType::bf16;
  throw Error(ErrorCode::invalid_argument, std::string(where) + ": argument 'dtype' is '" + text +
                                               "', expected float32, float64, float16 or bfloat16");
}

std::size_t input_copy_count() { return g_input_copies.load(); }

}  // namespace gpurnn::python
