#include "thread_state.hpp"

#include <utility>

#include "gilstate_shim.h"
#include "subinterp/queues.hpp"

namespace subinterp {

PyThreadState* current_thread_state() noexcept {
#if PY_VERSION_HEX >= 0x030D0000
    return PyThreadState_GetUnchecked();
#else
    return _PyThreadState_UncheckedGet();
#endif
}

CallerDetach::CallerDetach() noexcept
    : saved_(current_thread_state() ? PyEval_SaveThread() : nullptr) {}

CallerDetach::~CallerDetach() {
    if (saved_) PyEval_RestoreThread(saved_);
}

GilstateRestore::GilstateRestore() noexcept : previous_(PyGILState_GetThisThreadState()) {}

void GilstateRestore::restore() noexcept {
    if (restored_) return;
    restored_ = true;
    subinterp_gilstate_rebind(previous_);
}

void HostBlocking::release() noexcept { saved_ = current_thread_state() ? PyEval_SaveThread() : nullptr; }

void HostBlocking::reacquire() noexcept {
    if (saved_) PyEval_RestoreThread(static_cast<PyThreadState*>(std::exchange(saved_, nullptr)));
}

void delete_idle_thread_state(PyThreadState* tstate) noexcept {
    subinterp_gilstate_forget(tstate);
    PyThreadState_Clear(tstate);
    PyThreadState_Delete(tstate);
}

}  // namespace subinterp
