// PyObject <-> portable data, done in the interpreter that owns the object
// (the caller holds that interpreter's GIL).
#pragma once

#include <Python.h>

#include "py_ref.hpp"
#include "subinterp/data.hpp"

namespace subinterp {

// Containers nested deeper than this are refused (this also bounds
// self-referencing containers).
inline constexpr int kMaxDataDepth = 200;

// A new Python object equal to `data`. Throws Error.
PyRef to_python(const Data& data);

// Portable data equal to `object`. Throws Error(NotShareable) for objects
// outside the model, Error(Overflow) for ints beyond 64 bits.
DataPtr from_python(PyObject* object);

}  // namespace subinterp
