#pragma once

#include <Python.h>

#include "subinterp/interpreter.hpp"

namespace subinterp {

// Ends a sub-interpreter the way Py_EndInterpreter needs: no call running,
// non-daemon threads joined, every other thread state deleted first (it
// aborts the process otherwise). Throws Busy, leaving it usable, if it cannot.
void end_interpreter(Interpreter& interpreter);

// Does what end_interpreter() does before ending it -- joins its non-daemon
// threads and throws Busy if other threads remain -- and leaves it usable, so
// that runtime finalize can refuse before it has destroyed anything.
void require_endable(Interpreter& interpreter);

// Attaches the calling thread to a closed interpreter with its own cached (or
// a new) thread state, after deleting every other cached state. On 3.12,
// threading._shutdown() -- run by Py_EndInterpreter and Py_FinalizeEx -- called
// from one thread waits forever for the state of the thread that imported
// threading, unless that state is gone.
PyThreadState* attach_for_teardown(Interpreter& interpreter, Interpreter::ThreadStates cached);

}  // namespace subinterp
