// Argument parsing for METH_FASTCALL | METH_KEYWORDS functions: the queue
// methods are called millions of times a second, and PyArg_Parse* costs more
// than the rest of a put.
#pragma once

#include <Python.h>

#include <array>
#include <cstddef>

namespace subinterp {

// The parameters of one function: `names` in order, of which the first
// `positional` may be passed by position and the first `required` must be given.
struct Parameters {
    const char* function;
    std::array<const char*, 4> names;
    std::size_t count;
    std::size_t positional;
    std::size_t required;
};

// Fills values[0..count) with borrowed arguments (nullptr where not given).
// Returns false with TypeError set on a bad call.
bool parse_arguments(const Parameters& parameters, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames,
                     PyObject** values);

}  // namespace subinterp
