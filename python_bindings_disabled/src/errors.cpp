#include "errors.h"

#include <array>

#include "gpurnn/error.h"

namespace gpurnn::python {
namespace py = pybind11;
namespace {

struct ErrorClass {
  ErrorCode code;
  const char* name;        // attribute of the module
  PyObject* builtin_base;  // the built-in exception it also derives from, or null
  const char* doc;
};

// Filled once at import; the module holds a reference to each class for the process lifetime.
PyObject* g_base = nullptr;
std::array<PyObject*, 6> g_by_code{};

py::object make_class(const char* name, py::handle bases, const char* doc) {
  const std::string qualified = std::string("gpurnn.") + name;
  PyObject* cls = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
  if (cls == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(cls);
}

}  // namespace

void bind_errors(py::module_& m) {
  const std::array<ErrorClass, 6> classes{{
      {ErrorCode::invalid_argument, "InvalidArgumentError", PyExc_ValueError,
       "An argument has the wrong dtype, shape, layout or value (also a ValueError)."},
      {ErrorCode::unsupported, "UnsupportedError", PyExc_NotImplementedError,
       "A valid request this build cannot serve, e.g. a device it lacks (also a "
       "NotImplementedError)."},
      {ErrorCode::out_of_memory, "OutOfMemoryError", PyExc_MemoryError,
       "An allocation failed (also a MemoryError)."},
      {ErrorCode::backend_error, "BackendError", nullptr, "A BLAS, CUDA or library call failed."},
      {ErrorCode::io_error, "IOError", PyExc_OSError,
       "Reading or writing a file failed, or a file is malformed (also an OSError)."},
      {ErrorCode::internal, "InternalError", nullptr,
       "A broken invariant inside libgpurnn: a bug, please report it."},
  }};
  py::object base = make_class(
      "Error", PyExc_RuntimeError,
      "Every error libgpurnn raises. `code` is the error code as a string (\"invalid_argument\", "
      "\"unsupported\", \"out_of_memory\", \"backend_error\", \"io_error\", \"internal\") and "
      "`message` the library's message, which names the offending argument or file.");
  base.attr("code") = py::none();
  m.attr("Error") = base;
  g_base = base.ptr();
  for (const ErrorClass& c : classes) {
    const py::tuple bases = c.builtin_base ? py::tuple(py::make_tuple(base, py::handle(c.builtin_base)))
                                           : py::tuple(py::make_tuple(base));
    py::object cls = make_class(c.name, bases, c.doc);
    cls.attr("code") = to_string(c.code);
    m.attr(c.name) = cls;
    g_by_code[static_cast<std::size_t>(c.code)] = cls.ptr();
  }

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      const auto index = static_cast<std::size_t>(e.code());
      PyObject* cls = index < g_by_code.size() && g_by_code[index] ? g_by_code[index] : g_base;
      py::object instance = py::reinterpret_borrow<py::object>(cls)(e.what());
      instance.attr("code") = to_string(e.code());
      instance.attr("message") = e.what();
      PyErr_SetObject(cls, instance.ptr());
    }
  });
}

}  // namespace gpurnn::python
