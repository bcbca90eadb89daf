// PyObject <-> portable data, done in the interpreter that owns the object
// (the caller holds that interpreter's GIL).
#pragma once

#include <Python.h>

#include "py_ref.hpp"
#include "subinterp/data.hpp"

namespace subinterp {

// What happens to a Python object outside the data model (any type other than
// exactly None, bool, int, float, str, bytes, tuple, list, dict, memoryview or
// InterpreterID -- subclasses included, so their type survives the trip).
enum class Sharing {
    PickleFallback,  // pickle it into a `pickled` value (fails if pickle does)
    Strict,          // fail with Error(NotShareable) naming the type
};

// A new Python object equal to `data`, of the type it came from. Throws
// Error; InvalidArgument for a dict whose distinct keys are equal in Python
// (1, 1.0 and True); Python for a pickled value that cannot be unpickled here.
PyRef to_python(const Data& data);

// Portable data equal to `object`. Throws Error(NotShareable) for objects that
// cannot be shared (see Sharing), str with lone surrogates, or nesting deeper
// than Data::kMaxPythonDepth (which also stops self-referencing containers).
DataPtr from_python(PyObject* object, Sharing sharing);

}  // namespace subinterp
