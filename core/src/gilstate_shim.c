/* Compiled as C with CPython's internal headers: the TSS key lives in
 * _PyRuntime, whose layout is internal but fixed for the exact CPython
 * version the library is built against. */
#define Py_BUILD_CORE 1
#include "gilstate_shim.h"

#include "internal/pycore_runtime.h"

void subinterp_gilstate_rebind(PyThreadState *previous) {
    Py_tss_t *key = &_PyRuntime.autoTSSkey;
    PyThreadState *bound = (PyThreadState *)PyThread_tss_get(key);
    if (bound == previous) {
        return;
    }
    if (bound != NULL) {
        bound->_status.bound_gilstate = 0;
    }
    PyThread_tss_set(key, previous);
    if (previous != NULL) {
        previous->_status.bound_gilstate = 1;
    }
}

void subinterp_gilstate_forget(PyThreadState *tstate) {
    tstate->_status.bound_gilstate = 0;
}
