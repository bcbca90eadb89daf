// The Python face of queues -- the Queue type, its exceptions (PEP 734 /
// Python 3.14 names) and the UNBOUND, UNBOUND_ERROR and UNBOUND_REMOVE
// markers -- as one set of heap objects per interpreter, kept in that
// interpreter's dict. When the interpreter is torn down the set goes with its
// dict, and that is when the items it put become unbound.
#pragma once

#include <Python.h>

#include <new>
#include <optional>

#include "py_ref.hpp"
#include "subinterp/error.hpp"
#include "subinterp/queues.hpp"

namespace subinterp {

// This interpreter's queue objects, made on first use and kept (in a capsule)
// in its dict.
struct QueueObjects {
    int64_t interpreter;
    PyRef queue_type;
    PyRef unbound_type;
    PyRef unbound, unbound_error, unbound_remove;  // the markers
    PyRef queue_error, not_found, empty, full, closed, item_destroyed, not_shareable;  // exceptions
    PyRef known_queues;  // id -> weakref to this interpreter's one Queue object for it
    Py_ssize_t sweep_at = 64;
};
QueueObjects& queue_objects();  // throws Error

// This interpreter's Queue object for `handle`'s queue: one per queue while
// it lives, so Queue(id) is Queue(id), as in Python 3.14.
PyRef queue_object(const QueueHandle& handle);

// The handle of `object` if it is a Queue of this interpreter.
std::optional<QueueHandle> queue_handle_of(PyObject* object);

// The policy an UNBOUND, UNBOUND_ERROR or UNBOUND_REMOVE marker names;
// `if_absent` for nullptr or None. Throws InvalidArgument for anything else.
UnboundPolicy unbound_policy_of(PyObject* marker, UnboundPolicy if_absent);

// Raises `error` as the Python exception that fits it (QueueEmpty, ValueError,
// ...); keeps the exception already set for Error(Cancelled).
void raise_python_error(const Error& error);

// Runs `body` (returning a new reference, or nullptr with an exception set),
// turning anything it throws into a Python exception and nullptr.
template <class Body>
auto python_guarded(Body body) noexcept -> decltype(body()) {
    try {
        return body();
    } catch (const Error& error) {
        raise_python_error(error);
    } catch (const std::bad_alloc&) {
        PyErr_NoMemory();
    } catch (...) {
        PyErr_SetString(PyExc_SystemError, "subinterp: unexpected C++ exception");
    }
    return nullptr;
}

}  // namespace subinterp
