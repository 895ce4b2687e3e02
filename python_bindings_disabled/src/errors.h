#pragma once
// gpurnn.Error and one subclass per ErrorCode, and the translator that turns every
// gpurnn::Error thrown below a binding into the matching Python exception.

#include <pybind11/pybind11.h>

namespace gpurnn::python {

void bind_errors(pybind11::module_& m);

}  // namespace gpurnn::python
