// PyObject <-> portable data, done in the interpreter that owns the object
// (the caller holds that interpreter's GIL).
#pragma once

#include <Python.h>

#include "py_ref.hpp"
#include "subinterp/data.hpp"

namespace subinterp {

// A new Python object equal to `data`. Throws Error; InvalidArgument for a
// dict whose distinct keys are equal in Python (1, 1.0 and True).
PyRef to_python(const Data& data);

// Portable data equal to `object`. Throws Error(NotShareable) for objects
// outside the model or nested deeper than Data::kMaxDepth, Error(Overflow)
// for ints beyond 64 bits.
DataPtr from_python(PyObject* object);

}  // namespace subinterp
