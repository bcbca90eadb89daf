// RAII for the thread states the library uses on the caller's OS thread.
//
// Rules (CPython 3.12/3.13, see docs/architecture.md):
//  * A caller may already be attached to an interpreter (a Python host thread,
//    or Python code in another interpreter calling back into the library):
//    CallerDetach saves and releases it for the scope, so every blocking call
//    releases the caller's GIL and the caller's state is restored afterwards.
//  * Attaching a thread state also binds it as the thread's PyGILState state
//    (a thread-specific pointer CPython keeps). If we left our cached state
//    bound after returning, destroying the interpreter from another thread
//    would free it while this thread still points at it, and CPython writes
//    through that pointer the next time the thread attaches anything.
//    GilstateRestore puts the thread's previous binding back on exit.
#pragma once

#include <Python.h>

namespace subinterp {

// The calling thread's attached thread state, or nullptr.
PyThreadState* current_thread_state() noexcept;

class CallerDetach {
public:
    CallerDetach() noexcept;
    ~CallerDetach();
    CallerDetach(const CallerDetach&) = delete;
    CallerDetach& operator=(const CallerDetach&) = delete;

private:
    PyThreadState* saved_;
};

class GilstateRestore {
public:
    GilstateRestore() noexcept;
    ~GilstateRestore() { restore(); }
    GilstateRestore(const GilstateRestore&) = delete;
    GilstateRestore& operator=(const GilstateRestore&) = delete;

    // Puts the previous binding back now (once). Call it before checking a
    // thread state back in: it writes to the thread state bound meanwhile,
    // which another thread may delete once it is checked in.
    void restore() noexcept;

private:
    PyThreadState* previous_;
    bool restored_ = false;
};

// Attaches an existing, detached thread state for the scope.
class Attach {
public:
    explicit Attach(PyThreadState* tstate) noexcept : tstate_(tstate) { PyEval_RestoreThread(tstate_); }
    ~Attach() { PyEval_SaveThread(); }
    Attach(const Attach&) = delete;
    Attach& operator=(const Attach&) = delete;

private:
    PyThreadState* tstate_;
};

// Deletes a thread state that is not current and not attached anywhere.
// Requires the owning interpreter's GIL to be held by the calling thread.
void delete_idle_thread_state(PyThreadState* tstate) noexcept;

}  // namespace subinterp
