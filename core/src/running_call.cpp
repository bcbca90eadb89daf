#include "running_call.hpp"

#include "py_ref.hpp"
#include "subinterp/error.hpp"
#include "subinterp/interpreter.hpp"
#include "thread_state.hpp"

namespace subinterp {
namespace {

thread_local RunningCall* current_call = nullptr;

constexpr const char* kInterruptedKey = "subinterp.Interrupted";

// The interrupt exception type of the current interpreter, made on first use
// and kept in the interpreter's own dict, so it lives and dies with it.
// Borrowed; null with an exception set on failure.
PyObject* interrupted_type() {
    PyObject* dict = PyInterpreterState_GetDict(PyInterpreterState_Get());  // borrowed
    if (!dict) {
        PyErr_SetString(PyExc_RuntimeError, "no interpreter dict");
        return nullptr;
    }
    if (PyObject* found = PyDict_GetItemString(dict, kInterruptedKey)) return found;
    PyRef type(PyErr_NewExceptionWithDoc(
        kInterruptedKey,
        "Raised by subinterp in code whose deadline passed or that was interrupted or cancelled. "
        "A BaseException, so `except Exception` does not swallow it.",
        PyExc_BaseException, nullptr));
    if (!type || PyDict_SetItemString(dict, kInterruptedKey, type.get()) < 0) return nullptr;
    return type.get();  // the dict holds it
}

}  // namespace

RunningCall::RunningCall(PyThreadState* tstate) noexcept : tstate_(tstate) {}

// PyThreadState_SetAsyncExc picks the interpreter's first thread state with
// the given OS thread id. A thread has one of ours per interpreter, but in the
// main interpreter a Python host thread also has its own: then ours may not be
// the one picked, and the run cannot be interrupted safely. (Only the main
// interpreter is walked: the walk races with thread states being made
// without the GIL, which sub-interpreters never need.)
bool RunningCall::targets_our_thread_state() const {
    PyInterpreterState* interpreter = PyThreadState_GetInterpreter(tstate_);
    if (interpreter != PyInterpreterState_Main()) return true;
    for (PyThreadState* t = PyInterpreterState_ThreadHead(PyThreadState_GetInterpreter(tstate_)); t;
         t = PyThreadState_Next(t)) {
        if (t->thread_id == tstate_->thread_id) return t == tstate_;
    }
    return false;
}

bool RunningCall::raise(InterruptReason reason) {
    std::lock_guard lock(mutex_);
    if (finished_) return false;
    if (!reason_) reason_ = reason;
    if (!targets_our_thread_state()) return true;
    PyObject* type = interrupted_type();
    if (!type) {
        PyErr_Clear();
        type = PyExc_KeyboardInterrupt;  // static, shared by every interpreter
    }
    PyThreadState_SetAsyncExc(tstate_->thread_id, type);
    return true;
}

std::optional<InterruptReason> RunningCall::finish() {
    std::lock_guard lock(mutex_);
    finished_ = true;
    if (reason_ && targets_our_thread_state()) PyThreadState_SetAsyncExc(tstate_->thread_id, nullptr);
    return reason_;
}

std::optional<InterruptReason> RunningCall::reason() const {
    std::lock_guard lock(mutex_);
    return reason_;
}

RunningCall* RunningCall::current() noexcept { return current_call; }

RunningCall::Current::Current(RunningCall* call) noexcept : previous_(current_call) { current_call = call; }

RunningCall::Current::~Current() { current_call = previous_; }

void set_interrupted_error(const char* message) {
    PyObject* type = interrupted_type();
    if (type) PyErr_SetString(type, message);
}

bool interrupt_run(Interpreter& interpreter, const std::shared_ptr<RunningCall>& call, InterruptReason reason) {
    // Saved before a thread state is made: a new one binds itself as the
    // thread's gilstate state, and must not be what gets restored (it is
    // freed with its interpreter).
    CallerDetach caller;
    GilstateRestore gilstate;
    PyThreadState* tstate = interpreter.check_out_to_interrupt(*call);
    if (!tstate) return false;
    struct CheckIn {
        Interpreter& interpreter;
        GilstateRestore& gilstate;
        ~CheckIn() {
            gilstate.restore();  // writes to tstate, which a destroy may delete once checked in
            interpreter.check_in_interrupt();
        }
    } check_in{interpreter, gilstate};
    Attach attach(tstate);
    return call->raise(reason);
}

}  // namespace subinterp
