// A scope in which the calling OS thread runs Python in one interpreter.
#pragma once

#include "subinterp/interpreter.hpp"
#include "thread_state.hpp"

namespace subinterp {

class Session {
public:
    explicit Session(Interpreter& interpreter)
        : interpreter_(interpreter), tstate_(interpreter.check_out()) {
        PyEval_RestoreThread(tstate_);
    }
    ~Session() {
        PyEval_SaveThread();
        gilstate_.restore();  // writes to tstate_, which a destroy may delete once checked in
        interpreter_.check_in();
    }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

private:
    // Order matters: the caller is detached and its gilstate binding saved
    // before we attach, and restored after we detach.
    CallerDetach caller_;
    GilstateRestore gilstate_;
    Interpreter& interpreter_;
    PyThreadState* tstate_;
};

}  // namespace subinterp
