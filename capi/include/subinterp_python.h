/* subinterp_python.h -- the data plane's C API for Python extension modules.
 *
 * Extension modules that wrap the C ABI for Python (the SWIG control plane of
 * bindings/python) need to turn Python objects into subinterp_data and back,
 * in the interpreter that owns the objects. The `_subinterp` module (part of
 * libsubinterp.so) exports these conversions as a capsule, the way CPython's
 * datetime exports PyDateTime_CAPI:
 *
 *     const subinterp_python_api *api =
 *         PyCapsule_Import(SUBINTERP_PYTHON_API_CAPSULE, 0);
 *
 * Include <Python.h> first. Not part of the C ABI proper: hosts without
 * Python never need it.
 */
#ifndef SUBINTERP_PYTHON_H
#define SUBINTERP_PYTHON_H

#include "subinterp.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Name to pass to PyCapsule_Import(). */
#define SUBINTERP_PYTHON_API_CAPSULE "_subinterp._C_API"

/** Function table behind the capsule. Check struct_size before using a
 *  field added after the first version. */
typedef struct subinterp_python_api {
    uint32_t struct_size;
    /** Portable data equal to `object`, converted in the current interpreter
     *  (the caller holds its GIL). Objects outside the data model are pickled
     *  unless `strict` is non-zero, which raises NotShareableError instead.
     *  Returns a new reference, or NULL with a Python exception set. */
    subinterp_data *(*data_from_object)(PyObject *object, int strict);
    /** A new Python object equal to `data`, made in the current interpreter.
     *  Returns NULL with a Python exception set on failure. */
    PyObject *(*object_from_data)(const subinterp_data *data);
} subinterp_python_api;

#ifdef __cplusplus
}
#endif

#endif /* SUBINTERP_PYTHON_H */
