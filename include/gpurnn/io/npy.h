#pragma once
// NumPy's .npy format, versions 1.0 and 2.0 (3.0 read too): little-endian f32, f64, i32, i64
// in C order. Fortran-ordered arrays, object arrays, big-endian and other dtypes are refused
// with Error(io_error) naming the file and what was found.

#include <cstddef>
#include <string>

#include "gpurnn/tensor.h"

namespace gpurnn::io {

Tensor read_npy(const std::string& path);
// Parses an in-memory image of a file; `origin` names it in errors.
Tensor parse_npy(const void* data, std::size_t size, const std::string& origin = "<memory>");
// Writes a CPU tensor of f32, f64, i32 or i64 (format 1.0, or 2.0 when the header needs it),
// through a temporary file renamed into place.
void write_npy(const std::string& path, ConstTensorView tensor);

}  // namespace gpurnn::io
