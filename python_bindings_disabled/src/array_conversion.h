#pragma once
// The one place where numpy arrays meet libgpurnn tensors.
//
// Inputs: a floating array (or anything numpy.asarray accepts) becomes a ConstTensorView over
// the array's own memory when it is C-contiguous, aligned, native-endian and already in the
// model's dtype (zero-copy); a float32/float64 array of the other dtype is converted (one
// copy, counted by input_copy_count()). Any other dtype, and a non-contiguous array, raise
// gpurnn::Error(invalid_argument) naming the argument: "<where>: argument '<name>' ...".
// Outputs: new numpy arrays the library writes into, or numpy views of libgpurnn memory kept
// alive by a Python object (the RNN, or a capsule owning a Tensor).

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>

#include "gpurnn/tensor.h"

namespace gpurnn::python {

namespace py = pybind11;

// What to do with a floating array that is not C-contiguous.
enum class Layout {
  require_contiguous,  // raise (compute inputs: copying behind the caller's back is refused)
  copy_if_needed,      // copy (load_state_dict, which copies anyway)
};

// A floating input in the model's dtype, kept alive together with its view.
struct InputArray {
  py::object array;      // the caller's array, or the converted copy; None when omitted
  ConstTensorView view;  // empty when omitted

  bool given() const { return !view.empty(); }
  // The same memory seen as another shape with the same number of elements.
  void reshape(const Shape& shape);
  // Replaces the array by a private copy when it shares memory with `other`: libgpurnn
  // refuses aliased arguments, while PyTorch lets h0 and c0 be one tensor.
  void copy_if_overlaps(const InputArray& other);
};

// `obj` may be None when `optional`; otherwise it must convert to a float32/float64 array, or
// be in a half model's own storage (float16; bfloat16 bits as uint16).
InputArray float_input(py::handle obj, const char* where, const char* name, DType dtype,
                       bool optional, Layout layout = Layout::require_contiguous);

// Lengths as a fresh int32 array of the values of any integer array or sequence (always a
// small copy); None gives an empty InputArray.
InputArray lengths_input(py::handle obj, const char* where);

// A new, uninitialised C-contiguous numpy array and a mutable view of it.
py::array new_array(DType dtype, const Shape& shape);
TensorView mutable_view(py::array& array, DType dtype);

// A writable numpy view of the `shape`-shaped memory at `data`, which `owner` keeps alive
// (the array holds a reference to it).
py::array borrowed_array(void* data, DType dtype, const Shape& shape, py::handle owner);
// A Python object that keeps `tensor`'s storage alive: an owner for borrowed_array.
py::object tensor_owner(const Tensor& tensor);

// numpy's name of a libgpurnn floating dtype ("float32", "float64", "float16", and "bfloat16",
// which numpy lacks): for messages and RNN.dtype.
const char* numpy_name(DType dtype);
// The numpy dtype an array of `dtype` is stored as: numpy_name, except bf16 -> "uint16" (the
// bfloat16 bit patterns).
const char* numpy_storage(DType dtype);
// "float32", "f32", "float64", "double", "float16", "half", "f16", "bfloat16", "bf16",
// numpy.float32, numpy.dtype("float64")... to f32/f64/f16/bf16.
DType parse_float_dtype(py::handle obj, const char* where);

// How many inputs were copied (dtype conversions, alias copies) since the module was loaded:
// the hook the zero-copy tests read.
std::size_t input_copy_count();

}  // namespace gpurnn::python
