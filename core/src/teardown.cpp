#include "teardown.hpp"

#include <Python.h>

#include <chrono>
#include <string>
#include <thread>

#include "py_ref.hpp"
#include "subinterp/error.hpp"
#include "thread_state.hpp"

namespace subinterp {
namespace {

// Joins the interpreter's non-daemon threading.Thread threads before we
// count what is left. Not threading._shutdown(): Py_EndInterpreter calls that
// itself, and on 3.12 a second call fails an assertion.
void join_threading_threads() {
    PyRef name(PyUnicode_FromString("threading"));
    PyRef loaded(name ? PyImport_GetModule(name.get()) : nullptr);
    if (!loaded) {
        PyErr_Clear();
        return;  // never imported: no threading.Thread can exist
    }
    static const char* const kJoin =
        "import threading\n"
        "for thread in threading.enumerate():\n"
        "    if not thread.daemon and thread is not threading.current_thread() \\\n"
        "            and thread is not threading.main_thread():\n"
        "        thread.join()\n";
    PyRef globals(PyDict_New());
    if (globals && PyDict_SetItemString(globals.get(), "__builtins__", PyEval_GetBuiltins()) == 0) {
        PyRef result(PyRun_String(kJoin, Py_file_input, globals.get(), globals.get()));
    }
    PyErr_Clear();
}

int count_other_thread_states(PyInterpreterState* state, PyThreadState* ours) {
    int others = 0;
    for (PyThreadState* t = PyInterpreterState_ThreadHead(state); t; t = PyThreadState_Next(t)) {
        if (t != ours) ++others;
    }
    return others;
}

// A joined thread deletes its thread state just after join() returns, so give
// finishing threads a moment (with the GIL released) before calling it busy.
int wait_for_other_threads(PyInterpreterState* state, PyThreadState* ours) {
    using namespace std::chrono;
    const auto deadline = steady_clock::now() + milliseconds(200);
    int others = count_other_thread_states(state, ours);
    while (others > 0 && steady_clock::now() < deadline) {
        Py_BEGIN_ALLOW_THREADS
        std::this_thread::sleep_for(milliseconds(1));
        Py_END_ALLOW_THREADS
        others = count_other_thread_states(state, ours);
    }
    return others;
}

}  // namespace

PyThreadState* attach_for_teardown(Interpreter& interpreter, Interpreter::ThreadStates cached) {
    PyThreadState* ours = nullptr;
    if (auto mine = cached.find(std::this_thread::get_id()); mine != cached.end()) {
        ours = mine->second;
        cached.erase(mine);
    } else {
        ours = PyThreadState_New(interpreter.state());
        if (!ours) {
            interpreter.reopen(std::move(cached));
            throw Error(ErrorCode::NoMemory, "cannot create a thread state");
        }
    }
    PyEval_RestoreThread(ours);
    for (const auto& [thread, tstate] : cached) delete_idle_thread_state(tstate);
    return ours;
}

namespace {

// Attaches the calling thread to the closed interpreter as its only thread
// state, its non-daemon threads joined. Throws Busy, the interpreter reopened
// and usable, if other threads still run in it.
// `gilstate` is put back before reopening: it writes to `ours`, which another
// thread's destroy may delete once the interpreter is open again.
PyThreadState* attach_alone(Interpreter& interpreter, GilstateRestore& gilstate) {
    PyThreadState* ours = attach_for_teardown(interpreter, interpreter.close());
    join_threading_threads();
    if (const int others = wait_for_other_threads(interpreter.state(), ours); others > 0) {
        PyEval_SaveThread();
        gilstate.restore();
        interpreter.reopen({{std::this_thread::get_id(), ours}});
        throw Error(ErrorCode::Busy, "interpreter " + std::to_string(interpreter.id()) + " still has " +
                                         std::to_string(others) + " running thread(s) (daemon threads?)");
    }
    return ours;
}

}  // namespace

void end_interpreter(Interpreter& interpreter) {
    CallerDetach caller;
    GilstateRestore gilstate;
    Py_EndInterpreter(attach_alone(interpreter, gilstate));  // leaves no current thread state
}

void require_endable(Interpreter& interpreter) {
    CallerDetach caller;
    GilstateRestore gilstate;
    PyThreadState* ours = attach_alone(interpreter, gilstate);
    PyEval_SaveThread();
    gilstate.restore();
    interpreter.reopen({{std::this_thread::get_id(), ours}});
}

}  // namespace subinterp
