// One exec or call in progress, as seen by whoever may interrupt it: the
// deadline watchdog, subinterp_interrupt() and a pool future's cancel().
//
// An interrupt is CPython's asynchronous exception (PyThreadState_SetAsyncExc)
// set on the running thread state: the eval loop raises it at its next check,
// which is how a `while True: pass` stops. Setting it needs the target
// interpreter's GIL, so the interrupter attaches to the interpreter on its own
// thread (interrupt_run below). The run and its interrupters agree under the
// GIL: the run marks itself finished (and clears an exception that was set
// but not yet raised) before it detaches, so no interrupt outlives its run
// and fires in the thread state's next one.
#pragma once

#include <Python.h>

#include <memory>
#include <mutex>
#include <optional>

namespace subinterp {

class Interpreter;

enum class InterruptReason { Deadline, Cancel };

class RunningCall {
public:
    explicit RunningCall(PyThreadState* tstate) noexcept;
    RunningCall(const RunningCall&) = delete;
    RunningCall& operator=(const RunningCall&) = delete;

    // With the run's interpreter's GIL held: sets the interrupt exception in
    // the run unless it finished. The first reason given is the one reported.
    // Returns whether the run was still going.
    bool raise(InterruptReason reason);

    // By the run itself, GIL held, as it ends: the reason if it was
    // interrupted; any interrupt not yet raised is withdrawn.
    std::optional<InterruptReason> finish();

    // The interrupt reason so far, for code that waits outside Python (a
    // queue get in the run) and should stop too. Any thread.
    std::optional<InterruptReason> reason() const;

    // The run this thread is in (innermost), or null.
    static RunningCall* current() noexcept;

    // Makes `call` the thread's current run for the scope.
    class Current {
    public:
        explicit Current(RunningCall* call) noexcept;
        ~Current();
        Current(const Current&) = delete;
        Current& operator=(const Current&) = delete;

    private:
        RunningCall* previous_;
    };

private:
    bool targets_our_thread_state() const;

    mutable std::mutex mutex_;
    PyThreadState* const tstate_;
    std::optional<InterruptReason> reason_;
    bool finished_ = false;
};

// Raises subinterp.Interrupted in the current interpreter, as an interrupt
// does: for waits of our own (a queue get) that an interrupt ended.
void set_interrupted_error(const char* message);

// Attaches the calling thread to `interpreter` and raises the interrupt in
// `call`, waiting for the interpreter's GIL (a few ms while Python code runs).
// False if the run had already ended or the interpreter is gone. Never throws
// for those; throws Error(NoMemory) if no thread state can be made.
bool interrupt_run(Interpreter& interpreter, const std::shared_ptr<RunningCall>& call, InterruptReason reason);

}  // namespace subinterp
