/* Access to the runtime's PyGILState thread-specific binding, which CPython
 * 3.12/3.13 expose only for reading. See thread_state.hpp for why the library
 * must put it back after using a thread state on a host thread. */
#ifndef SUBINTERP_GILSTATE_SHIM_H
#define SUBINTERP_GILSTATE_SHIM_H

#include <Python.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Make `previous` the calling thread's gilstate thread state again (it may be
 * NULL), unbinding whatever thread state was bound in between. */
void subinterp_gilstate_rebind(PyThreadState *previous);

/* Clear the bound-gilstate mark of a thread state about to be deleted from a
 * thread other than the one that used it, so deleting it does not clear the
 * deleting thread's own binding. */
void subinterp_gilstate_forget(PyThreadState *tstate);

#ifdef __cplusplus
}
#endif

#endif
