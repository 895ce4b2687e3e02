#pragma once
// NumPy's .npy format, versions 1.0 and 2.0 (3.0 read too): little-endian f16 ('<f2', numpy's
// float16), f32, f64, i32, i64 in C order, and u8 ('|u1', read only: video frames). Fortran-ordered arrays, object arrays, big-endian and
// other dtypes are refused with Error(io_error) naming the file and what was found. numpy has no
// bfloat16, so reading never gives a bf16 tensor, and a bf16 tensor is written as float32
// ('<f4', every value exact): Tensor::to(DType::bf16) after read_npy gives the same bits back.

#include <cstddef>
#include <string>

#include "gpurnn/tensor.h"

namespace gpurnn::io {

Tensor read_npy(const std::string& path);
// Parses an in-memory image of a file; `origin` names it in errors.
Tensor parse_npy(const void* data, std::size_t size, const std::string& origin = "<memory>");
// Writes a CPU tensor of f16 ('<f2'), f32, f64, i32, i64, or bf16 (as '<f4', widened exactly)
// (format 1.0, or 2.0 when the header needs it), through a temporary file renamed into place.
// Error(invalid_argument) naming 'tensor' for u8, an undefined view or one not on the CPU.
void write_npy(const std::string& path, ConstTensorView tensor);

}  // namespace gpurnn::io
